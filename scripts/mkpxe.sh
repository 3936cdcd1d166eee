#!/bin/sh
# mkpxe.sh - fill a TFTP root for PXE boot: BOOTX64.EFI (the kernel is inside
# it) and keel/keel.cfg, a sample that sets nothing. The loader fetches
# \keel\... files as keel/... from the server that sent it.
#
#   scripts/mkpxe.sh BOOTX64.EFI outdir
set -eu

[ $# -eq 2 ] || { echo "usage: $0 BOOTX64.EFI outdir" >&2; exit 2; }
efi=$1
out=$2
sample=$(dirname "$0")/../boot/keel.cfg.sample
[ -f "$efi" ] || { echo "$0: $efi: no such file" >&2; exit 1; }

mkdir -p "$out/keel"
# The Makefile's target is $(B)/pxe/BOOTX64.EFI itself: copy onto it only
# when it is not the same file.
[ "$efi" -ef "$out/BOOTX64.EFI" ] || cp "$efi" "$out/BOOTX64.EFI"
cp "$sample" "$out/keel/keel.cfg"
