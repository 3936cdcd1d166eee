#!/bin/sh
# mkusb.sh - build the USB stick image: a GPT disk (what `dd` to a stick
# wants) with one FAT32 EFI system partition holding \EFI\BOOT\BOOTX64.EFI
# (the removable-media path, UEFI 2.10 3.5.1.1) and \keel\keel.cfg (a sample
# that sets nothing). No root, no loop devices: sgdisk and mtools only.
#
#   scripts/mkusb.sh BOOTX64.EFI out.img [localpath:\keel\name ...]
#
# Extra files (also from KEEL_USB_EXTRA, space separated) are copied in;
# folders are made as needed; a later \keel\keel.cfg replaces the sample.
set -eu

usage() {
	echo "usage: $0 BOOTX64.EFI out.img [localpath:\\keel\\name ...]" >&2
	exit 2
}
[ $# -ge 2 ] || usage
efi=$1
out=$2
shift 2
here=$(dirname "$0")
sample=$here/../boot/keel.cfg.sample
[ -f "$efi" ] || { echo "$0: $efi: no such file" >&2; exit 1; }
[ -f "$sample" ] || { echo "$0: $sample: no such file" >&2; exit 1; }

size_mib=64
start=2048 # first partition sector (1 MiB, the usual alignment)
export MTOOLS_SKIP_CHECK=1

tmp=$out.tmp
rm -f "$tmp"
truncate -s ${size_mib}M "$tmp"
sgdisk --clear --new=1:$start:0 --typecode=1:EF00 \
	--change-name=1:"Keel ESP" "$tmp" >/dev/null
# The partition ends where sgdisk put it: before the backup GPT.
end=$(sgdisk --info=1 "$tmp" | sed -n 's/^Last sector: \([0-9]*\).*/\1/p')
[ -n "$end" ] || { echo "$0: cannot read the partition table" >&2; exit 1; }
sectors=$((end - start + 1))
img="$tmp@@$((start * 512))"

# FAT32 (-F), hidden sectors = the partition's start, a fixed serial for
# reproducible images.
mformat -i "$img" -F -T $sectors -H $start -N 4b45454c -v KEEL ::
mmd -i "$img" ::/EFI ::/EFI/BOOT ::/keel
mcopy -i "$img" "$efi" ::/EFI/BOOT/BOOTX64.EFI
mcopy -i "$img" "$sample" ::/keel/keel.cfg

# localpath:\dir\name -> copy, making the folders on the way.
add_file() {
	src=${1%:*}
	dst=$(printf '%s' "${1##*:}" | tr '\\' '/')
	case $dst in /*) ;; *) dst=/$dst ;; esac
	[ "$src" != "$1" ] && [ -f "$src" ] ||
		{ echo "$0: bad extra file '$1' (want localpath:\\dir\\name)" >&2; exit 1; }
	dir=
	rest=${dst#/}
	while [ "${rest#*/}" != "$rest" ]; do
		dir=$dir/${rest%%/*}
		rest=${rest#*/}
		mmd -i "$img" "::$dir" 2>/dev/null || true
	done
	mcopy -o -i "$img" "$src" "::$dst"
}

for f in ${KEEL_USB_EXTRA:-} "$@"; do
	add_file "$f"
done

mv "$tmp" "$out"
