#!/bin/sh
# test.sh - what `make test` runs after building: host unit tests (plain and
# ASan/UBSan), then the integration tests (pytest driving QEMU). KEEL_SLOW=1
# adds the slow suites. The last line is the total: "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
B=build
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== unit tests"
scripts/run-unit.sh $(ls $B/unit/test_* $B/unit-asan/test_* 2>/dev/null) | tee "$tmp/unit.txt"
up=$(sed -n 's/^unit: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$tmp/unit.txt")
uf=$(sed -n 's/^unit: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$tmp/unit.txt")

echo "== integration tests"
marker="not slow"
[ "${KEEL_SLOW:-0}" = 1 ] && marker=""
/usr/bin/python3 -m pytest -p no:cacheprovider tests/integration -v \
	${marker:+-m "$marker"} --junitxml="$tmp/junit.xml"
rc=$?
ip=0
if_=0
if [ -f "$tmp/junit.xml" ]; then
	eval "$(/usr/bin/python3 - "$tmp/junit.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else list(root)
t = sum(int(s.get("tests", 0)) for s in suites)
f = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
sk = sum(int(s.get("skipped", 0)) for s in suites)
print(f"ip={t - f - sk}; if_={f}")
PY
)"
elif [ "$rc" != 0 ] && [ "$rc" != 5 ]; then
	if_=1
fi
[ "$rc" = 5 ] && echo "integration: no tests collected"

total_p=$(( ${up:-0} + ip ))
total_f=$(( ${uf:-1} + if_ ))
echo "$total_p passed, $total_f failed"
[ "$total_f" = 0 ]
