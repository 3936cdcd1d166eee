#!/bin/sh
# gen-ksyms.sh ELF - print the assembler source of Keel's .ksyms section (the
# text symbols of ELF, sorted by address) for kernel/ksyms.c. With /dev/null,
# an empty table (first link).
set -eu
{
	if [ "$1" != /dev/null ]; then
		nm -n --defined-only "$1" | awk '$2 ~ /^[tT]$/ && $3 !~ /^\./ { print $1, $3 }'
	fi
} | awk '
BEGIN { n = 0 }
{ addr[n] = $1; name[n] = $2; n++ }
END {
	print "\t.section .ksyms, \"a\""
	print "\t.balign 8"
	print "\t.globl ksyms_count, ksyms_table, ksyms_names"
	print "ksyms_count:\n\t.quad " n
	print "ksyms_table:"
	off = 0
	for (i = 0; i < n; i++) {
		printf "\t.quad 0x%s\n\t.long %d, 0\n", addr[i], off
		off += length(name[i]) + 1
	}
	print "ksyms_names:"
	for (i = 0; i < n; i++)
		printf "\t.asciz \"%s\"\n", name[i]
}'
