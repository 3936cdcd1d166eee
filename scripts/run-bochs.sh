#!/bin/sh
# run-bochs.sh [-m MODEL] [-c CPUS] [-M MEGS] [-t SECS] [-u] [-o DIR] [ISO] -
# run Keel under Debian's Bochs (the Intel VMX test machine, see
# ../shared/recipes/bochs/README.md): headless (SDL2 with the dummy video
# driver), COM1 to DIR/com1.txt, the internal debugger told to continue and
# to quit at a magic breakpoint. Default: build/keel.iso (GRUB, Multiboot2)
# under the Bochs BIOS with unknown MSRs faulting as on hardware; -u boots the
# ISO (an EFI image: build/keel-usb.img is a disk, use an EFI El Torito ISO)
# under OVMF, which needs ignore_bad_msrs=1. Models: tigerlake (most VMX
# features), corei7_sandy_bridge_2600k (the fewest with EPT and unrestricted
# guest). Bochs is killed after SECS (default 120); the exit status is
# Bochs's, judge by COM1.
set -eu
model=tigerlake
cpus=1
megs=1024
secs=120
uefi=0
out=build/bochs
while getopts m:c:M:t:uo: opt; do
	case $opt in
	m) model=$OPTARG ;;
	c) cpus=$OPTARG ;;
	M) megs=$OPTARG ;;
	t) secs=$OPTARG ;;
	u) uefi=1 ;;
	o) out=$OPTARG ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
iso=${1:-build/keel.iso}
mkdir -p "$out"
out=$(cd "$out" && pwd)
iso=$(cd "$(dirname "$iso")" && pwd)/$(basename "$iso")

if [ "$uefi" = 1 ]; then
	rom=/usr/share/OVMF/OVMF_CODE.fd
	badmsrs=1
else
	rom=/usr/share/bochs/BIOS-bochs-latest
	badmsrs=0
fi
cat > "$out/bochsrc.txt" <<EOF
config_interface: textconfig
display_library: sdl2
plugin_ctrl: unmapped=1, serial=1, speaker=0, gameport=0, parallel=0
memory: guest=$megs, host=$megs
romimage: file=$rom, options=fastboot
vgaromimage: file=/usr/share/vgabios/vgabios.bin
cpu: model=$model, count=$cpus, ips=100000000, reset_on_triple_fault=0, ignore_bad_msrs=$badmsrs
ata0: enabled=1, ioaddr1=0x1f0, ioaddr2=0x3f0, irq=14
ata0-master: type=cdrom, path=$iso, status=inserted
boot: cdrom
com1: enabled=1, mode=file, dev=$out/com1.txt
sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy
log: $out/bochs.log
panic: action=fatal
error: action=report
info: action=report
debug: action=ignore
clock: sync=none, time0=utc
magic_break: enabled=1
EOF
printf 'continue\nquit\n' > "$out/bochs-continue.rc"
rm -f "$out/com1.txt"
cd "$out"
SDL_VIDEODRIVER=dummy SDL_AUDIODRIVER=dummy exec timeout -k 10 "$secs" \
	bochs-bin -q -f bochsrc.txt -rc bochs-continue.rc </dev/null \
	>"$out/stdout.txt" 2>"$out/stderr.txt"
