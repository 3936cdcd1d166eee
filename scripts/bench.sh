#!/bin/sh
# bench.sh - every benchmark; figures only, never pass/fail.
set -eu
cd "$(dirname "$0")/.."
/usr/bin/python3 tests/bench/bench_boot.py
/usr/bin/python3 tests/bench/bench_exits.py
/usr/bin/python3 tests/bench/bench_linux.py
/usr/bin/python3 tests/bench/bench_mgmt.py
