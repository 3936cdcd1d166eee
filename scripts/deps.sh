#!/bin/sh
# deps.sh - install every Debian package that building and testing Keel needs,
# when missing, and fetch the Linux guest kernel (Debian's cloud kernel, only
# unpacked into third_party/linux/, never installed). Quick and silent when
# everything is there. Debian 12; installing packages needs root.
set -eu
cd "$(dirname "$0")/.."

PKGS="gcc make binutils gawk python3 git
gnu-efi
qemu-system-x86 ovmf seabios
bochs bochsbios vgabios bochs-sdl
mtools dosfstools gdisk
grub-pc-bin grub-efi-amd64-bin grub-common xorriso
python3-pytest libcmocka-dev
busybox-static acpica-tools"

# The Linux guest (tests/integration/test_linux.py): the bzImage of the
# package linux-image-cloud-amd64 depends on, unpacked with dpkg-deb -x.
LINUX_META=linux-image-cloud-amd64
LINUX_DIR=third_party/linux

install_packages() {
	missing=""
	for p in $PKGS; do
		if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q "install ok installed"; then
			missing="$missing $p"
		fi
	done
	[ -z "$missing" ] && return 0

	echo "deps: installing:$missing"
	if [ "$(id -u)" != 0 ]; then
		echo "deps: these Debian packages are missing and installing" \
			"them needs root:" >&2
		echo "  apt-get install$missing" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
	echo "deps: done"
}

# The real image package behind the metapackage, e.g.
# linux-image-6.1.0-56-cloud-amd64; empty when apt's lists do not know it.
linux_image_package() {
	apt-cache depends "$LINUX_META" 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9].*-cloud-amd64\)$/\1/p' |
		head -n 1
}

fetch_linux() {
	[ -f "$LINUX_DIR/vmlinuz" ] && [ -f "$LINUX_DIR/PACKAGE" ] && return 0

	pkg=$(linux_image_package)
	if [ -z "$pkg" ] && [ "$(id -u)" = 0 ]; then
		apt-get update -qq
		pkg=$(linux_image_package)
	fi
	if [ -z "$pkg" ]; then
		echo "deps: apt does not know $LINUX_META (apt-get update as" \
			"root?); the Linux guest tests will be skipped" >&2
		return 0
	fi
	echo "deps: fetching the Linux guest kernel $pkg"
	tmp=$(mktemp -d)
	# apt-get download writes into the current folder; as root it warns
	# that it cannot drop to the _apt user for a folder _apt cannot write.
	(cd "$tmp" && apt-get download -qq "$pkg" 2>&1 |
		grep -v "unsandboxed as root" >&2 || true)
	deb=$(ls "$tmp"/"$pkg"_*.deb 2>/dev/null | head -n 1)
	if [ -z "$deb" ]; then
		rm -rf "$tmp"
		echo "deps: apt-get download $pkg failed" >&2
		exit 1
	fi
	dpkg-deb -x "$deb" "$tmp/root"
	img=$(ls "$tmp"/root/boot/vmlinuz-* | head -n 1)
	rm -rf "$LINUX_DIR.new"
	mkdir -p "$LINUX_DIR.new"
	cp "$img" "$LINUX_DIR.new/vmlinuz"
	cp "$tmp"/root/boot/config-* "$LINUX_DIR.new/config" 2>/dev/null || true
	basename "$deb" .deb > "$LINUX_DIR.new/PACKAGE"
	rm -rf "$tmp" "$LINUX_DIR"
	mv "$LINUX_DIR.new" "$LINUX_DIR"
	echo "deps: $LINUX_DIR/vmlinuz from $(cat "$LINUX_DIR/PACKAGE")"
}

install_packages
fetch_linux
