#!/bin/sh
# deps.sh - install every Debian package that building and testing Keel needs,
# when missing. Quick and silent when everything is there. Debian 12, as root.
set -eu

PKGS="gcc make binutils gawk python3 git
gnu-efi
qemu-system-x86 ovmf seabios
bochs bochsbios vgabios bochs-sdl
mtools dosfstools gdisk
grub-pc-bin grub-efi-amd64-bin grub-common xorriso
python3-pytest libcmocka-dev"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "deps: installing:$missing"
if [ "$(id -u)" != 0 ]; then
	echo "deps: these Debian packages are missing and installing them needs root:" >&2
	echo "  apt-get install$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "deps: done"
