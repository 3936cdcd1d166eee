#!/bin/sh
# linux-guest.sh [OUTDIR] - the Linux guest of tests/integration/test_linux.py:
# OUTDIR/vmlinuz (Debian's cloud kernel from third_party/linux/, fetched by
# `make deps`) and OUTDIR/initramfs.cpio.gz, a busybox-static userspace whose
# /init prints KEEL-GUEST: marker lines and runs a shell on ttyS0. OUTDIR is
# build/linux by default. No root: the cpio archive (with /dev/console, owned
# by root) is written by a few lines of Python, as the kernel's
# usr/gen_init_cpio would from its list format. Rebuilds only what is older
# than its inputs.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
out=${1:-$root/build/linux}
kernel=$root/third_party/linux/vmlinuz
busybox=${KEEL_BUSYBOX:-/bin/busybox}
self=$here/linux-guest.sh

[ -f "$kernel" ] || {
	echo "$0: $kernel is missing: run make deps" >&2
	exit 1
}
# ldd fails on a static executable ("not a dynamic executable").
[ -x "$busybox" ] && ! ldd "$busybox" >/dev/null 2>&1 || {
	echo "$0: $busybox is not a static busybox: install busybox-static" \
		"(make deps)" >&2
	exit 1
}
mkdir -p "$out"

# stale TARGET SOURCE... - true when TARGET is missing or older than a source.
stale() {
	t=$1
	shift
	[ -f "$t" ] || return 0
	for s in "$@"; do
		[ "$s" -nt "$t" ] && return 0
	done
	return 1
}

if stale "$out/vmlinuz" "$kernel"; then
	cp "$kernel" "$out/vmlinuz.tmp"
	mv "$out/vmlinuz.tmp" "$out/vmlinuz"
fi

stale "$out/initramfs.cpio.gz" "$busybox" "$self" || exit 0

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# /init: PID 1. The kernel opened /dev/console (console=ttyS0) as its stdin,
# stdout and stderr before starting it.
cat > "$tmp/init" <<'INIT'
#!/bin/sh
# /init of Keel's Linux test guest (scripts/linux-guest.sh).
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "KEEL-GUEST: userspace up"
echo "KEEL-GUEST: cpus=$(nproc)"
auto=
for arg in $(cat /proc/cmdline); do
	case $arg in
	keel.msg=*) echo "KEEL-GUEST: keel.msg=${arg#keel.msg=}" ;;
	keel.auto=1) auto=1 ;;
	esac
done
if [ -n "$auto" ]; then
	# For consoles nobody can type on (Bochs): what a test would type.
	echo "KEEL-GUEST: processors=$(grep -c ^processor /proc/cpuinfo)"
	keel-dmesg warn 25000
	echo "KEEL-GUEST: powering off"
	poweroff -f
fi
# Long typed lines must not wrap: ash redraws a wrapped line with escapes.
stty -F /dev/ttyS0 cols 250 rows 50 2>/dev/null
# The prompt ends its line: a console that shows whole lines only (Keel's)
# shows it, and a test types once it is there, when ash reads the terminal.
nl='
'
export PS1="keel-guest#$nl"
# From here on the kernel's messages stay in dmesg (emergencies excepted):
# on the console they would land in the middle of the shell's lines.
dmesg -n 1
echo "KEEL-GUEST: shell on ttyS0"
# cttyhack makes the console (ttyS0) the shell's controlling terminal.
setsid cttyhack sh
echo "KEEL-GUEST: shell exited, powering off"
poweroff -f
INIT

# keel-dmesg all|warn [DELAY_US]: dmesg between two marker lines, every
# line (all) or those that may be a warning (warn: a superset of what
# tests/integration/linuxguest.py counts as one), DELAY_US apart: Keel shows
# at most 50 lines a second of a VM's output on its console.
cat > "$tmp/keel-dmesg" <<'DMESG'
#!/bin/sh
# keel-dmesg all|warn [DELAY_US] - dmesg, all or the lines worth a look.
mode=${1:-all}
delay=${2:-0}
pick() {
	if [ "$mode" = warn ]; then
		grep -iE 'acpi|clock|tsc|timer|apic|hpet|pit|rtc|calibrat|jiffies|watchdog|warn|error|fail|bug|firmware|unstable|stall|lockup|taint|oops|call trace|rip: |panic|msr|smp|stuck'
	else
		cat
	fi
}
echo "KEEL-GUEST: dmesg begin mode=$mode lines=$(dmesg | wc -l)"
dmesg | pick | while IFS= read -r line; do
	echo "$line"
	[ "$delay" = 0 ] || usleep "$delay"
done
echo "KEEL-GUEST: dmesg end"
DMESG

# The archive's contents in gen_init_cpio's list format.
{
	for d in bin sbin usr usr/bin usr/sbin dev proc sys tmp root etc; do
		echo "dir /$d 0755 0 0"
	done
	echo "nod /dev/console 0600 0 0 c 5 1"
	echo "nod /dev/ttyS0 0660 0 0 c 4 64"
	echo "nod /dev/null 0666 0 0 c 1 3"
	echo "file /bin/busybox $busybox 0755 0 0"
	echo "file /init $tmp/init 0755 0 0"
	echo "file /bin/keel-dmesg $tmp/keel-dmesg 0755 0 0"
	"$busybox" --list-full | while read -r applet; do
		[ "$applet" = bin/busybox ] && continue
		echo "slink /$applet /bin/busybox 0777 0 0"
	done
} > "$tmp/list"

/usr/bin/python3 - "$tmp/list" "$tmp/initramfs.cpio" <<'PY'
# The "newc" cpio format the kernel unpacks (Documentation/driver-api/
# early-userspace/buffer-format.rst): a 110-byte ASCII header, the name, the
# data, each padded to 4 bytes; ends with TRAILER!!!. mtime 0: reproducible.
import stat
import sys

ino = [720]


def entry(out, name, mode, uid=0, gid=0, data=b"", rdev=(0, 0), nlink=1):
    name = name.lstrip("/").encode() + b"\0"
    ino[0] += 1
    fields = (ino[0], mode, uid, gid, nlink, 0, len(data), 0, 0,
              rdev[0], rdev[1], len(name), 0)
    hdr = b"070701" + b"".join(b"%08X" % f for f in fields)
    out.write(hdr + name + b"\0" * (-(len(hdr) + len(name)) % 4))
    out.write(data + b"\0" * (-len(data) % 4))


with open(sys.argv[1]) as lst, open(sys.argv[2], "wb") as out:
    for line in lst:
        f = line.split()
        kind, name = f[0], f[1]
        if kind == "dir":
            entry(out, name, stat.S_IFDIR | int(f[2], 8), int(f[3]), int(f[4]),
                  nlink=2)
        elif kind == "nod":
            dev = stat.S_IFCHR if f[5] == "c" else stat.S_IFBLK
            entry(out, name, dev | int(f[2], 8), int(f[3]), int(f[4]),
                  rdev=(int(f[6]), int(f[7])))
        elif kind == "file":
            with open(f[2], "rb") as src:
                entry(out, name, stat.S_IFREG | int(f[3], 8), int(f[4]),
                      int(f[5]), src.read())
        elif kind == "slink":
            entry(out, name, stat.S_IFLNK | int(f[3], 8), int(f[4]), int(f[5]),
                  f[2].encode())
        else:
            sys.exit("linux-guest: bad list line: %s" % line.strip())
    entry(out, "TRAILER!!!", 0, nlink=1)
PY
gzip -9n < "$tmp/initramfs.cpio" > "$out/initramfs.cpio.gz.tmp"
mv "$out/initramfs.cpio.gz.tmp" "$out/initramfs.cpio.gz"
echo "linux-guest: $out/vmlinuz, $out/initramfs.cpio.gz"
