#!/bin/sh
# mkefiiso.sh BOOTX64.EFI OUT.iso [LOCAL:\keel\name ...] - a UEFI-only El
# Torito CD image: its boot image is a FAT filesystem holding
# \EFI\BOOT\BOOTX64.EFI, the sample \keel\keel.cfg and any extra files (a
# later \keel\keel.cfg replaces the sample). The loader reads keel.cfg and
# the files from that FAT image, as from a USB stick. For firmware that boots
# CDs but no USB disk image: Bochs with OVMF (tests), virtual media of a BMC.
set -eu
efi=$1
out=$2
shift 2
here=$(dirname "$0")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export MTOOLS_SKIP_CHECK=1

bytes=$(stat -c %s "$efi")
for spec in "$@"; do
	bytes=$((bytes + $(stat -c %s "${spec%%:*}")))
done
kib=$((bytes / 1024 + 1024))
dd if=/dev/zero of="$tmp/efi.img" bs=1024 count=$kib 2>/dev/null
mformat -i "$tmp/efi.img" ::
mmd -i "$tmp/efi.img" ::/EFI ::/EFI/BOOT ::/keel
mcopy -i "$tmp/efi.img" "$efi" ::/EFI/BOOT/BOOTX64.EFI
mcopy -i "$tmp/efi.img" "$here/../boot/keel.cfg.sample" ::/keel/keel.cfg
for spec in "$@"; do
	src=${spec%%:*}
	dst=$(printf '%s' "${spec#*:}" | tr '\\' /)
	dir=$(dirname "$dst")
	# make every folder on the way (mmd fails on one that exists)
	path=""
	for part in $(printf '%s' "$dir" | tr / ' '); do
		path="$path/$part"
		mmd -i "$tmp/efi.img" "::$path" 2>/dev/null || true
	done
	mcopy -o -i "$tmp/efi.img" "$src" "::$dst"
done
mkdir "$tmp/root"
cp "$tmp/efi.img" "$tmp/root/efi.img"
xorriso -as mkisofs -quiet -R -J -o "$out" -e efi.img -no-emul-boot "$tmp/root"
