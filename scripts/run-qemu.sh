#!/bin/sh
# run-qemu.sh - boot Keel from the USB image in QEMU: OVMF, AMD-V with nested
# paging under TCG, 4 CPUs, 2 GiB, the serial console on this terminal
# (Ctrl-A X quits QEMU). Extra arguments go to QEMU.
# KEEL_IMG=... picks another disk image.
set -eu
cd "$(dirname "$0")/.."
img=${KEEL_IMG:-build/keel-usb.img}
code=/usr/share/OVMF/OVMF_CODE_4M.fd
vars_src=/usr/share/OVMF/OVMF_VARS_4M.fd
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$vars_src" "$tmp/vars.fd" # a fresh copy every run: boot order persists in it
cp "$img" "$tmp/disk.img"      # the guest may write to its disk; keep ours clean

qemu-system-x86_64 -machine q35 -accel tcg -cpu qemu64,+svm,+npt \
	-smp 4 -m 2G -nographic -serial mon:stdio -vga std \
	-drive if=pflash,format=raw,readonly=on,file="$code" \
	-drive if=pflash,format=raw,file="$tmp/vars.fd" \
	-drive if=none,id=usb0,format=raw,file="$tmp/disk.img" \
	-device qemu-xhci -device usb-storage,drive=usb0 \
	-netdev user,id=n0,restrict=on -device virtio-net-pci,netdev=n0,romfile= \
	"$@"
