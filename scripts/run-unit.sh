#!/bin/sh
# run-unit.sh BIN... - run cmocka test programs; print their output and, last,
# "unit: N passed, N failed" (counted in test cases). Exit 1 on any failure.
set -u
passed=0
failed=0
for bin in "$@"; do
	out=$("$bin" 2>&1)
	rc=$?
	printf '%s\n' "$out" | grep -E '^\[  (FAILED|ERROR)|^\[  PASSED|^\[==========\] tests|^\[==========\] [0-9]+ test' | sed "s|^|$(basename "$(dirname "$bin")")/$(basename "$bin"): |"
	p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | awk '{s+=$1} END {print s+0}')
	f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | awk '{s+=$1} END {print s+0}')
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		# crashed (sanitizer, signal) before cmocka could count
		printf '%s\n' "$out" | tail -20
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
done
echo "unit: $passed passed, $failed failed"
[ "$failed" = 0 ]
