#!/bin/sh
# mkiso.sh KERNEL OUT.iso [KEEL_CFG [COMMAND_LINE [LOCAL:KEELPATH ...]]] -
# a BIOS-bootable GRUB ISO that starts Keel through Multiboot2, with the
# serial console on COM1. keel.cfg travels as a Multiboot2 module named
# keel.cfg; the command line overrides it as the UEFI load options do. Each
# LOCAL:KEELPATH copies a file into the ISO and passes it as a module whose
# name is KEELPATH (e.g. build/guests/checks.bin:/keel/guests/checks.bin),
# the path keel.cfg uses for it.
set -eu
kernel=$1
out=$2
cfg=${3:-}
cmdline=${4:-}
shift 2
[ $# -gt 0 ] && shift
[ $# -gt 0 ] && shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

mkdir -p "$tmp/iso/boot/grub" "$tmp/iso/keel"
cp "$kernel" "$tmp/iso/boot/kernel.elf"
if [ -n "$cfg" ]; then
	cp "$cfg" "$tmp/iso/keel/keel.cfg"
else
	cat > "$tmp/iso/keel/keel.cfg" <<'CFG'
# keel.cfg - Keel's configuration (see README.md, "Configuration").
# One key=value per line; everything here is commented out, so the built-in
# defaults apply.
#console=serial,fb
#loglevel=info
CFG
fi
modules=""
for spec in "$@"; do
	src=${spec%%:*}
	dst=$(printf '%s' "${spec#*:}" | tr '\\' /)
	mkdir -p "$tmp/iso$(dirname "$dst")"
	cp "$src" "$tmp/iso$dst"
	modules="$modules
	module2 $dst $dst"
done
cat > "$tmp/iso/boot/grub/grub.cfg" <<GRUB
set timeout=0
set default=0
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
menuentry "Keel" {
	multiboot2 /boot/kernel.elf $cmdline
	module2 /keel/keel.cfg /keel/keel.cfg$modules
	boot
}
GRUB
grub-file --is-x86-multiboot2 "$tmp/iso/boot/kernel.elf" || {
	echo "mkiso: $kernel has no valid Multiboot2 header" >&2
	exit 1
}
grub-mkrescue -d /usr/lib/grub/i386-pc -o "$out" "$tmp/iso" >"$tmp/log" 2>&1 || {
	cat "$tmp/log" >&2
	exit 1
}
