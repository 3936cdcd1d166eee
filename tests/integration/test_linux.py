"""test_linux.py - an unmodified Debian kernel (linux-image-cloud-amd64, from
make deps) with a busybox initramfs (scripts/linux-guest.sh) as a Keel guest,
held against the QEMU anchor: the same kernel and initramfs booted directly
by QEMU TCG with the settings Keel gives the guest (linuxguest.run_anchor).

- make test: the anchor itself; then Keel from the USB image under OVMF (QEMU
  TCG, SVM with NPT) with one VM of 2 vCPUs and 512 MiB: it reaches
  userspace, /proc/cpuinfo has 2 processors, dmesg has no ACPI error and no
  clock or timer warning the anchor does not have, "sleep 5" takes 5 s of
  the host's time (within 10 %), and poweroff stops the VM with
  reason=poweroff. Commands reach the guest through "vm linux send".
- Two such VMs at once on 4 CPUs (under a minute here: in make test too).
- make test-slow: the same guest on the VMX backend under Bochs, which
  cannot type: the guest's /init does the checks itself (keel.auto=1) and
  powers off.
- Without Keel: the warning filter, the console parser, the initramfs.

What needs the kernel is skipped, with the reason, when make deps did not
fetch it.
KEEL_LINUX_TIMEOUT bounds how long the guest may take to reach userspace.
"""
import gzip
import os
import re
import shutil
import stat
import time

import pytest

import linuxguest as lg
from keelvm import QemuKeel

# What needs the kernel; the filter's and the parser's tests do not.
needs_kernel = pytest.mark.skipif(lg.missing_reason() is not None,
                                  reason=lg.missing_reason() or "")

LINUX_TIMEOUT = float(os.environ.get("KEEL_LINUX_TIMEOUT", "900"))
MEM_MIB = 512


# ------------------------------------------------------------ helpers ----

def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


class LinuxVm:
    """One Linux VM in a Keel boot: waits on its lines, types into it, and
    remembers why it failed so that later checks fail with the same
    reason."""

    def __init__(self, keel, name, msg):
        self.keel = keel
        self.name = name
        self.msg = msg
        self.sh = lg.GuestShell(keel, vm=name)
        self.host = lg.GuestShell(keel)  # all of Keel's console
        self.fail = lg.keel_fail(name)
        self.error = None
        self.mark = 0  # where the guest's userspace starts

    def reach_userspace(self):
        """Wait for Keel's started line and the guest's userspace marker;
        record the error instead of raising it."""
        try:
            m, _, _ = self.host.wait(
                r"keel: vm %s started cpus=(\d+) mem_mib=(\d+)" % self.name,
                LINUX_TIMEOUT, fail=self.fail)
            assert (int(m.group(1)), int(m.group(2))) == (lg.CPUS, MEM_MIB), \
                "Keel started VM %s with %s, want cpus=%d mem_mib=%d" % (
                    self.name, m.group(0), lg.CPUS, MEM_MIB)
            _, self.mark, _ = self.sh.wait(re.escape(lg.USERSPACE),
                                           LINUX_TIMEOUT, fail=self.fail)
            self.sh.wait(r"KEEL-GUEST: shell on ttyS0", 120, self.mark,
                         fail=self.fail)
        except AssertionError as e:
            self.error = e
        return self

    def require(self):
        if self.error is not None:
            raise AssertionError("VM %s did not reach userspace: %s"
                                 % (self.name, self.error))


def boot_keel(make, vms, smp, mem):
    """Keel from the USB image under OVMF with Linux VMs [(name, msg)]."""
    cfg, files = lg.keel_cfg(vms)
    k = make(boot="usb", smp=smp, mem=mem, cfg=cfg,
             files={d: read_bytes(p) for d, p in files.items()})
    r = k.wait_ready()
    assert r["virt"] == "svm", r
    return k


def check_warnings(found, anchor, where, noise=()):
    """found: lg.warnings() of a run; none may be new beside the anchor
    (noise: more regexes that explain a warning)."""
    new = lg.unexplained(found, anchor.warnings, noise)
    assert not new, (
        "%s: dmesg has warnings the QEMU anchor does not:\n  %s\n"
        "the anchor's:\n  %s" % (where, "\n  ".join("%s: %s" % w for w in new),
                                 "\n  ".join("%s: %s" % w for w in anchor.warnings)
                                 or "(none)"))


def check_processors(vm):
    """/proc/cpuinfo lists both vCPUs; else say what Linux said on bring-up."""
    n = vm.sh.processors(fail=vm.fail)
    smp = [l for l in vm.sh.lines() if re.search(r"smpboot|smp:|CPU#?\d", l)]
    assert n == lg.CPUS, (
        "VM %s: /proc/cpuinfo lists %d processor(s), want %d; its bring-up "
        "lines:\n  %s" % (vm.name, n, lg.CPUS, "\n  ".join(smp[:20])))


def check_poweroff(vm):
    start = len(vm.host.all_lines())
    vm.sh.enter("poweroff -f", fail=vm.fail)
    m, _, _ = vm.host.wait(r"keel: vm %s stopped reason=(\S+)(?: (.*))?" % vm.name,
                           120, start)
    assert m.group(1) == "poweroff", m.group(0)


# ------------------------------------------------------------ fixtures ----

@pytest.fixture(scope="module")
def anchor(tmp_path_factory):
    """The QEMU anchor, run once for the module."""
    return lg.run_anchor(tmp_path_factory.mktemp("linux-anchor"))


@pytest.fixture(scope="module")
def linux_vm(tmp_path_factory):
    """Keel (2 host CPUs, 2 GiB) with the VM linux; one boot for the
    module's (a) checks, in file order, poweroff last."""
    runs = []

    def make(**kw):
        k = QemuKeel(tmp_path_factory.mktemp("linux-keel"), **kw)
        runs.append(k)
        return k.start()

    vm = None
    error = None
    try:
        k = boot_keel(make, [("linux", "keel-a")], smp=2, mem="2G")
        vm = LinuxVm(k, "linux", "keel-a").reach_userspace()
    except AssertionError as e:
        error = e
    yield vm if vm is not None else error
    for k in runs:
        k.stop()


def need(vm):
    if isinstance(vm, AssertionError):
        raise AssertionError("Keel did not come up: %s" % vm)
    vm.require()
    return vm


# -------------------------------------------------------- the anchor ----

@needs_kernel
def test_anchor_boots_and_powers_off(anchor):
    """The yardstick works: QEMU boots the guest to its shell with 2 CPUs,
    sleep 5 takes 5 s, poweroff ends QEMU, the warnings are found."""
    assert anchor.cpus == lg.CPUS and anchor.processors == lg.CPUS, anchor
    assert 4.5 <= anchor.sleep_s <= 5.5, anchor.sleep_s
    assert anchor.sleep_s <= anchor.sleep_from_echo_s < anchor.sleep_s + 1
    assert anchor.exit_code == 0, anchor.console[-3000:]
    assert len(anchor.dmesg) > 200, "dmesg has only %d lines" % len(anchor.dmesg)
    assert any("Linux version" in l for l in anchor.dmesg), anchor.dmesg[:3]
    # keel-dmesg warn (what Keel's run prints, paced) keeps every warning.
    kept = {l for _, l in lg.warnings(anchor.warn_dmesg)}
    missed = [l for _, l in anchor.warnings if l not in kept]
    assert not missed, "keel-dmesg warn drops warnings: %r" % missed
    assert len(anchor.warn_dmesg) < len(anchor.dmesg) / 2, \
        "keel-dmesg warn keeps %d of %d lines" % (len(anchor.warn_dmesg),
                                                 len(anchor.dmesg))
    # The anchor's ACPI (QEMU's SeaBIOS tables) has no ACPICA error.
    assert not [l for k, l in anchor.warnings
                if k == "acpi" and re.search(r"ACPI (BIOS )?Error", l)], \
        anchor.warnings


# ------------------------------------------------- (a) one Linux VM ----

@needs_kernel
def test_linux_reaches_userspace(linux_vm):
    vm = need(linux_vm)
    lines = vm.sh.lines(vm.mark)
    assert "KEEL-GUEST: cpus=%d" % lg.CPUS in lines, lines[:10]
    assert "KEEL-GUEST: keel.msg=%s" % vm.msg in lines, \
        "the command line did not reach the guest: %r" % lines[:10]


@needs_kernel
def test_linux_sees_two_processors(linux_vm):
    check_processors(need(linux_vm))


@needs_kernel
def test_linux_dmesg_has_no_new_warnings(linux_vm, anchor):
    vm = need(linux_vm)
    start = len(vm.host.all_lines())
    lines = vm.sh.dmesg("warn", 25000, timeout=300, fail=vm.fail)
    dropped = [l for l in vm.host.all_lines()[start:]
               if re.match(r"\[%s\] \(\d+ lines not shown" % vm.name, l)]
    assert not dropped, "Keel's console dropped dmesg lines: %r" % dropped
    check_warnings(lg.warnings(lines), anchor, "Keel under QEMU TCG")


@needs_kernel
def test_linux_sleep_takes_five_seconds(linux_vm):
    vm = need(linux_vm)
    s, from_echo = vm.sh.sleep5(fail=vm.fail)
    assert 4.5 <= s <= 5.5, (
        "sleep 5 took %.2f s of the host's time (%.2f s from the command's "
        "echo)" % (s, from_echo))


@needs_kernel
def test_linux_clock_keeps_time_over_a_minute(linux_vm):
    """The guest's clock (RTC at boot, then the PM timer and the local
    APIC's timer) against the host's over 60 s: both advance alike."""
    vm = need(linux_vm)
    g0, h0 = vm.sh.guest_time(fail=vm.fail)
    time.sleep(max(0.0, 60 - (time.time() - h0)))
    g1, h1 = vm.sh.guest_time(fail=vm.fail)
    drift = (g1 - g0) - (h1 - h0)
    assert h1 - h0 >= 59, (h0, h1)
    # Each reading is late by the console's polling and the nested shell's
    # start-up, a few tenths at most; a drift beyond 1 s is the clock's.
    assert abs(drift) < 1.0, (
        "over %.1f s of the host's time the guest's clock moved %.3f s "
        "(drift %.3f s)" % (h1 - h0, g1 - g0, drift))


@needs_kernel
def test_linux_poweroff_stops_the_vm(linux_vm):
    check_poweroff(need(linux_vm))


# ------------------------------------------------- (b) two at once ----

@needs_kernel
def test_two_linux_vms_at_once(keel):
    """vm.a and vm.b, 2 vCPUs and 512 MiB each, on 4 host CPUs: both reach
    userspace with their own command line, both power off."""
    k = boot_keel(keel, [("a", "keel-a"), ("b", "keel-b")], smp=4, mem="3G")
    vms = [LinuxVm(k, "a", "keel-a"), LinuxVm(k, "b", "keel-b")]
    for vm in vms:
        vm.reach_userspace().require()
        assert "KEEL-GUEST: keel.msg=%s" % vm.msg in vm.sh.lines(vm.mark)
    for vm in vms:
        check_processors(vm)
    for vm in vms:
        check_poweroff(vm)


# --------------------------------------------- (a) on VMX, under Bochs ----

@pytest.mark.slow
@needs_kernel
@pytest.mark.skipif(shutil.which("bochs-bin") is None,
                    reason="bochs is not installed (make deps)")
def test_linux_on_vmx_under_bochs(tmp_path, anchor):
    """The guest on the VMX backend (Bochs tigerlake, 2 CPUs): COM1 is
    output only, so /init does what a test would type (keel.auto=1) and
    powers off. Bochs's clock follows its instruction count: no sleep
    check."""
    from keelbochs import BochsKeel
    limit = float(os.environ.get("KEEL_LINUX_BOCHS_TIMEOUT", "5400"))
    cfg, files = lg.keel_cfg([("linux", "keel-vmx")], " keel.auto=1")
    k = BochsKeel(tmp_path, model="tigerlake", cpus=2, megs=1536, cfg=cfg,
                  files=files, limit=int(limit) + 60).start()
    try:
        r = k.wait_ready(timeout=300)
        assert r["virt"] == "vmx", r
        sh = lg.GuestShell(k, vm="linux")
        host = lg.GuestShell(k)
        fail = lg.keel_fail("linux")
        host.wait(r"keel: vm linux started cpus=2 mem_mib=512", 300, fail=fail)
        _, mark, _ = sh.wait(re.escape(lg.USERSPACE), limit, fail=fail)
        sh.wait(r"KEEL-GUEST: processors=2", 600, mark, fail=fail)
        _, begin, _ = sh.wait(r"KEEL-GUEST: dmesg begin .*", 600, mark, fail=fail)
        _, end, _ = sh.wait(r"KEEL-GUEST: dmesg end", 1200, begin, fail=fail)
        m, _, _ = host.wait(r"keel: vm linux stopped reason=(\S+).*", 600, end)
        assert m.group(1) == "poweroff", m.group(0)
        lines = sh.lines(begin + 1, end)
    finally:
        k.stop()
    assert "KEEL-GUEST: keel.msg=keel-vmx" in sh.lines(mark)
    check_warnings(lg.warnings(lines), anchor, "Keel on VMX (Bochs)",
                   noise=BOCHS_NOISE)


# Bochs runs the guest at about 100 MIPS (ips=100000000, TSC 100 MHz).
# Until Linux has a clocksource good for high resolution, its tick is
# periodic and a tick handled later than one period is lost; at that speed
# some are, so the clocksource watchdog, which compares the TSC with
# jiffies then, finds them apart and marks the TSC unstable. The QEMU
# anchor marks it unstable too, for its own reason (TSCs unsynchronized);
# either way the guest goes on with the ACPI PM timer.
BOCHS_NOISE = (re.compile(r"tsc: Marking TSC unstable due to clocksource watchdog"),)


# ------------------------------------------------------- without Keel ----

@pytest.mark.parametrize("line,kind", [
    ("[    0.51] ACPI Error: AE_NOT_FOUND, While resolving a named reference "
     "package element - LNKS (20220331/dspkginit-438)", "acpi"),
    ("[    0.52] ACPI BIOS Error (bug): Could not resolve symbol [\\_SB.PCI0], "
     "AE_NOT_FOUND (20220331/dswload2-162)", "acpi"),
    ("[    0.53] ACPI Warning: FADT (revision 5) is longer than ACPI 2.0 "
     "version, truncating length 0x10C to 0xF4 (20220331/tbfadt-522)", "acpi"),
    ("ACPI: Unable to map lapic to logical cpu number", "acpi"),
    ("[    2.10] clocksource: timekeeping watchdog on CPU1: Marking "
     "clocksource 'tsc' as unstable because the skew is too large:", "timer"),
    ("[    0.30] APIC timer disabled due to verification failure", "timer"),
    ("[    0.00] tsc: Fast TSC calibration failed", "timer"),
    ("[    0.00] tsc: Unable to calibrate against PIT", "timer"),
    ("[    1.00] rtc_cmos 00:04: not accessible", "timer"),
    ("[    0.00] hpet: HPET dysfunctional in PC10. Force disabled.", "timer"),
    ("[    0.20] ..MP-BIOS bug: 8254 timer not connected to IO-APIC", "timer"),
    ("[    0.00] [Firmware Bug]: TSC_DEADLINE disabled due to Errata; "
     "please update microcode to version: 0x3a (or later)", "timer"),
    ("[    5.00] WARNING: CPU: 1 PID: 0 at kernel/time/tick-sched.c:1 x", "kernel"),
    ("[   22.00] rcu: INFO: rcu_preempt self-detected stall on CPU", "kernel"),
    ("[    0.00] [Firmware Bug]: BIOS has corrupted hw-PMU resources", "kernel"),
    ("[    0.42] unchecked MSR access error: RDMSR from 0xc0010055 at rIP: "
     "0xffffffff848737c3 (native_read_msr+0x3/0x30)", "kernel"),
    ("[    0.06] tsc: HPET/PMTIMER calibration failed", "timer"),
    ("[   12.37] smpboot: do_boot_cpu failed(-1) to wakeup CPU#1", "kernel"),
    ("[    0.65] smpboot: CPU 1 is now offline", None),
    ("[    0.07] tsc: Marking TSC unstable due to could not calculate TSC khz",
     "timer"),
    # Informational lines that name a clock or ACPI are not warnings.
    ("[    0.02] x2apic: IRQ remapping doesn't support X2APIC mode", None),
    ("[    1.48] clocksource: Switched to clocksource acpi_pm", None),
    ("[    0.30] ..TIMER: vector=0x30 apic1=0 pin1=2 apic2=-1 pin2=-1", None),
    ("[    0.07] ACPI: PM-Timer IO Port: 0x608", None),
    ("[    0.29] APIC: Switch to symmetric I/O mode setup", None),
    ("[    1.27] PCI: Using host bridge windows from ACPI; if necessary, use "
     "\"pci=nocrs\" and report a bug", None),
    ("[    0.00] tsc: Detected 2445.425 MHz processor", None),
    ("[    2.43] rtc_cmos 00:04: setting system clock to 2026-11-25T18:51:34 "
     "UTC (1795632694)", None),
])
def test_classify(line, kind):
    assert lg.classify(line) == kind


def test_unexplained_compares_without_numbers_and_noise():
    anchor = lg.warnings([
        "[    0.30] tsc: Unable to calibrate against PIT",
        "[    1.10] acpi PNP0A03:00: fail to add MMCONFIG information, can't "
        "access extended PCI configuration space under this bridge."])
    keel = lg.warnings([
        "[   12.00] acpi PNP0A03:00: fail to add MMCONFIG information, can't "
        "access extended PCI configuration space under this bridge.",
        "[   13.00] tsc: Marking TSC unstable due to TSCs unsynchronized",
        "[   14.00] ACPI Error: Aborting method \\_SB.PCI0._CRS due to "
        "previous error (AE_AML_OPERAND_TYPE) (20220331/psparse-529)",
        "[   15.00] APIC timer disabled due to verification failure",
        "[   16.00] tsc: Unable to calibrate against PIT",
        "[   17.00] tsc: Fast TSC calibration failed",
        "[   18.00] tsc: Marking TSC unstable due to could not calculate TSC khz"])
    new = lg.unexplained(keel, anchor)
    assert [k for k, _ in new] == ["acpi", "timer", "timer"], new
    assert "_CRS" in new[0][1] and "APIC timer" in new[1][1]
    assert "could not calculate" in new[2][1]
    noise = [re.compile(r"could not calculate TSC khz")]
    assert lg.unexplained(keel, anchor, noise) == new[:2]


class FakeConsole:
    def __init__(self, text):
        self.text = text
        self.sent = []
        self.proc = None

    def output(self):
        return self.text.replace("\r", "")

    def send(self, text):
        self.sent.append(text)


def test_guest_shell_reads_keel_console():
    """Guest lines behind "[name] ", the prompt on a line of its own and
    ESC[6n before the echo (Keel shows the ESC as '.'), half a line at the
    end, Keel's own lines and another VM's between."""
    con = FakeConsole(
        "keel: vm linux started cpus=2 mem_mib=512\r\n"
        "[linux] KEEL-GUEST: userspace up\r\n"
        "[other] keel-guest#\r\n"
        "[linux] keel-guest#\r\n"
        "[linux] .[6ngrep -c ^processor /proc/cpuinfo; echo CPUINFO-END\r\n"
        "[ 123.000001] a Keel log line\r\n"
        "[linux] 2\r\n"
        "[linux] CPUINFO-END\r\n"
        "[linux] keel-guest#\r\n"
        "[linux] \x1b[6ndate +%s; sleep 5; echo SLEPT\r\n"
        "[linux] 1795633305\r\n"
        "[linux] SLE")
    sh = lg.GuestShell(con, vm="linux")
    _, i, _ = sh.wait(re.escape(lg.USERSPACE), 1)
    assert i == 1
    assert sh.processors(timeout=1) == 2
    assert con.sent == ["vm linux send grep -c ^processor /proc/cpuinfo; "
                        "echo CPUINFO-END\r"]
    assert sh.pos == 8
    with pytest.raises(AssertionError, match="timed out"):
        sh.sleep5(timeout=0.05)  # SLEPT is not a whole line yet
    con.text += "PT\r\n"
    sh.pos = 8
    assert max(sh.sleep5(timeout=1)) < 1
    with pytest.raises(AssertionError, match="appeared while waiting"):
        lg.GuestShell(con).wait("nothing", 1, fail=[r"keel: vm linux started.*"])
    with pytest.raises(AssertionError, match="too long"):
        sh.type("x" * 120)


def _cpio_entries(data):
    """{name: (mode, rdev major, minor, body)} of a newc archive."""
    out, off = {}, 0
    while True:
        assert data[off:off + 6] == b"070701", "bad cpio magic at %d" % off
        f = [int(data[off + 6 + 8 * i:off + 14 + 8 * i], 16) for i in range(13)]
        namesize, filesize = f[11], f[6]
        name = data[off + 110:off + 110 + namesize - 1].decode()
        off = (off + 110 + namesize + 3) & ~3
        body = data[off:off + filesize]
        off = (off + filesize + 3) & ~3
        if name == "TRAILER!!!":
            return out
        out[name] = (f[1], f[9], f[10], body)


@needs_kernel
def test_initramfs_has_what_init_needs():
    """Built without root: /dev/console (c 5 1, owned by root), a static
    busybox, an /init that prints the markers, sh and the helpers."""
    _, initrd = lg.build()
    with open(initrd, "rb") as f:
        files = _cpio_entries(gzip.decompress(f.read()))
    mode, major, minor, _ = files["dev/console"]
    assert stat.S_ISCHR(mode) and (major, minor) == (5, 1)
    mode, _, _, body = files["init"]
    assert stat.S_ISREG(mode) and mode & 0o111
    init = body.decode()
    assert lg.USERSPACE in init and "KEEL-GUEST: cpus=" in init
    assert "mount -t devtmpfs" in init and "cttyhack" in init
    assert b"\x7fELF" == files["bin/busybox"][3][:4]
    for link in ("bin/sh", "sbin/poweroff", "bin/dmesg", "bin/grep", "bin/usleep"):
        mode, _, _, target = files[link]
        assert stat.S_ISLNK(mode) and target == b"/bin/busybox", link
    assert "bin/keel-dmesg" in files
