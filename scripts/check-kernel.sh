#!/bin/sh
# check-kernel.sh FINAL STAGE1 - the symbol table must not have moved any code:
# the text of the final kernel must sit where the first link put it.
set -eu
a=$(nm -n "$1" | awk '$2 ~ /^[tT]$/' | md5sum)
b=$(nm -n "$2" | awk '$2 ~ /^[tT]$/' | md5sum)
if [ "$a" != "$b" ]; then
	echo "check-kernel: text symbols moved between the two links" >&2
	exit 1
fi
