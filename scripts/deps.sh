#!/bin/sh
# deps.sh - install every Debian package that building and testing Keel needs,
# when missing, fetch the Linux guest kernel (Debian's cloud kernel, only
# unpacked into third_party/linux/, never installed) and the sources of the
# libraries the management agent is built from (lwIP, mbedTLS, cJSON, into
# third_party/, never committed). Quick and silent when everything is there.
# Debian 12; installing packages needs root.
set -eu
cd "$(dirname "$0")/.."

PKGS="gcc make binutils gawk python3 git
gnu-efi
qemu-system-x86 ovmf seabios
bochs bochsbios vgabios bochs-sdl
mtools dosfstools gdisk
grub-pc-bin grub-efi-amd64-bin grub-common xorriso
python3-pytest libcmocka-dev
busybox-static acpica-tools
patch xz-utils openssl
libcurl4-openssl-dev libcjson-dev libssl-dev python3-requests"

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

# ---- management agent libraries (lwIP 2.2, mbedTLS 3.6, cJSON 1.7) ----
# Debian 12 has mbedTLS 2.28 (no TLS 1.3); trixie's source packages are
# architecture-independent, so they are fetched with a private apt
# configuration that leaves the system's own untouched (apt checks the
# tarballs against the signed .dsc files). Unpacked into third_party/<name>/,
# with the Debian security patches that touch files Keel compiles. The
# Makefile builds them (section "third-party libraries").
TP_LIBS="mbedtls lwip cjson"
TP_STAMP=third_party/.mgmt-libs

# Refuse a major.minor the configs (mgmt/port/) were not written for.
check_lib_versions() {
	grep -q 'MBEDTLS_VERSION_STRING *"3\.6\.' \
		third_party/mbedtls/include/mbedtls/build_info.h ||
		{ echo "deps: need mbedTLS 3.6.x" >&2; return 1; }
	grep -q 'LWIP_VERSION_MAJOR *2$' third_party/lwip/src/include/lwip/init.h &&
		grep -q 'LWIP_VERSION_MINOR *2$' \
			third_party/lwip/src/include/lwip/init.h ||
		{ echo "deps: need lwIP 2.2.x" >&2; return 1; }
	grep -q 'CJSON_VERSION_MAJOR 1$' third_party/cjson/cJSON.h &&
		grep -q 'CJSON_VERSION_MINOR 7$' third_party/cjson/cJSON.h ||
		{ echo "deps: need cJSON 1.7.x" >&2; return 1; }
}

fetch_mgmt_libs() {
	[ -f "$TP_STAMP" ] && [ -f third_party/mbedtls/library/ssl_tls.c ] &&
		[ -f third_party/lwip/src/core/tcp.c ] &&
		[ -f third_party/cjson/cJSON.c ] && return 0

	A=$PWD/third_party/.apt
	D=$PWD/third_party/.debian-src
	mkdir -p "$A/lists/partial" "$A/cache/archives/partial" "$D"
	# The mirror this machine already uses.
	uri=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/*.sources \
		2>/dev/null || true)
	[ -n "$uri" ] || uri=$(awk '$1=="deb"{print $2; exit}' \
		/etc/apt/sources.list 2>/dev/null || true)
	[ -n "$uri" ] || { echo "deps: no Debian mirror configured" >&2; exit 1; }
	echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg]" \
		"$uri trixie main" > "$A/sources.list"
	O="-o Dir::Etc::SourceList=$A/sources.list -o Dir::Etc::SourceParts=/dev/null
	   -o Dir::State::Lists=$A/lists -o Dir::Cache=$A/cache"
	echo "deps: fetching the trixie sources of $TP_LIBS"
	# shellcheck disable=SC2086
	apt-get $O update -qq
	rm -f "$D"/*
	# shellcheck disable=SC2086
	(cd "$D" && apt-get $O source --download-only $TP_LIBS) \
		> third_party/.fetch.log 2>&1 || true
	for pkg in $TP_LIBS; do
		orig=$(ls "$D"/${pkg}_*.orig.tar.* 2>/dev/null | head -n 1)
		deb=$(ls "$D"/${pkg}_*.debian.tar.* 2>/dev/null | head -n 1)
		if [ -z "$orig" ] || [ -z "$deb" ]; then
			echo "deps: apt-get source $pkg failed:" >&2
			cat third_party/.fetch.log >&2
			exit 1
		fi
		rm -rf "third_party/$pkg" "third_party/$pkg.debian"
		mkdir -p "third_party/$pkg" "third_party/$pkg.debian"
		tar xf "$orig" -C "third_party/$pkg" --strip-components=1
		tar xf "$deb" -C "third_party/$pkg.debian"
	done
	# Debian's security fixes for files Keel compiles:
	#   cJSON CVE-2023-26819 (parse_number stack buffer), cJSON.c;
	#   lwIP out-of-bounds read in ip6addr_ntoa (empty_block_last).
	patch -d third_party/cjson -p1 -s < \
		third_party/cjson.debian/debian/patches/0001-allocate-memory-for-the-temporary-buffer.patch
	patch -d third_party/lwip -p1 -s < \
		third_party/lwip.debian/debian/patches/empty_block_last
	check_lib_versions || exit 1
	(cd "$D" && ls ./*.dsc | sed 's|^\./||') > "$TP_STAMP.new"
	mv "$TP_STAMP.new" "$TP_STAMP"
	echo "deps: $(tr '\n' ' ' < "$TP_STAMP")"
}

install_packages
fetch_linux
fetch_mgmt_libs
