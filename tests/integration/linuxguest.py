"""linuxguest.py - the Linux guest of test_linux.py and bench_linux.py.

- build(): Debian's cloud kernel (make deps puts it in third_party/linux/)
  and a busybox initramfs, made by scripts/linux-guest.sh in build/linux/.
- GuestShell: the guest's serial console as seen through a console object
  (QemuKeel, QemuLinux or BochsKeel): its lines, typed commands, the
  KEEL-GUEST: marker lines of the initramfs's /init.
- QemuLinux and run_anchor(): the QEMU anchor, the same kernel and initramfs
  booted directly by QEMU TCG (no Keel) with the settings Keel gives the
  guest: how long it takes to reach userspace, which warnings its dmesg has.
- warnings(): which dmesg lines are ACPI errors, clocksource/timer warnings
  or kernel warnings; unexplained(): those of a run that the anchor has not.
- keel_cfg(), keel_fail(): the guest as Keel VMs (keel.cfg keys, files) and
  the console lines that mean Keel gave up on one.
"""
import os
import re
import subprocess
import time

from keelvm import BUILD, ROOT, QemuKeel

KERNEL_SRC = os.path.join(ROOT, "third_party", "linux", "vmlinuz")
OUT = os.path.join(BUILD, "linux")
VMLINUZ = os.path.join(OUT, "vmlinuz")
INITRD = os.path.join(OUT, "initramfs.cpio.gz")

# console=ttyS0: the only console Keel's guest has (COM1, IRQ 4). Full
# dmesg on it (no quiet): the tests read it. panic=-1: a panic reboots at
# once, so a broken boot ends the VM (QEMU exits under -no-reboot, Keel
# stops the VM with reason=reset) instead of hanging until a timeout.
CMDLINE = "console=ttyS0 panic=-1"
CPUS = 2
MEM = "512M"
USERSPACE = "KEEL-GUEST: userspace up"
# QEMU's PC without the HPET Keel's guest does not have either.
ANCHOR_MACHINE = "pc,hpet=off"
PROMPT = "keel-guest#"  # a line of its own

# OVMF-less direct boot under TCG on two shared cores: seconds; generous.
ANCHOR_TIMEOUT = float(os.environ.get("KEEL_LINUX_ANCHOR_TIMEOUT", "180"))

# Terminal control sequences that busybox ash's line editing and the
# firmware write (ESC[6n asks where the cursor is, ESC c resets): not text.
_ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[c78]|\x1b")


def missing_reason():
    """Why the Linux guest cannot be built here, or None."""
    if not os.path.isfile(KERNEL_SRC):
        return ("no Linux kernel: %s is missing (make deps fetches Debian's "
                "linux-image-cloud-amd64)" % os.path.relpath(KERNEL_SRC, ROOT))
    return None


def build():
    """(vmlinuz, initramfs) paths, built or refreshed by linux-guest.sh."""
    r = subprocess.run([os.path.join(ROOT, "scripts", "linux-guest.sh"), OUT],
                       capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError("scripts/linux-guest.sh failed:\n%s%s"
                           % (r.stdout, r.stderr))
    return VMLINUZ, INITRD


def clean(text):
    """Console text without CRs and terminal escapes."""
    return _ESCAPES.sub("", text.replace("\r", ""))


# ------------------------------------------------------------ warnings ----

# What counts as a warning, by kind. A line counts once, under the first
# kind that takes it.
#  acpi:   ACPICA's own error reports ("ACPI Error:", "ACPI BIOS Error
#          (bug):", "ACPI Warning:", "ACPI Exception:") and the ACPI
#          driver's lines that say something failed or is wrong.
#  timer:  a line about a clock or timer (clocksource, TSC, APIC timer,
#          PIT, HPET, RTC, PM timer, calibration, watchdog) that says it is
#          unstable, failed, skewed, disabled or wrong.
#  kernel: WARNING:/BUG:/Oops/call traces/stalls/taints, a #GP on an MSR
#          access ("unchecked MSR access error"), a CPU that did not come
#          up (smpboot) and [Firmware Bug] notes, whatever they are about.
# Informational lines that merely name a clock ("clocksource: Switched to
# clocksource tsc", "..TIMER: vector=0x30") are not warnings.
_ACPI = re.compile(
    r"ACPI( BIOS)? (Error|Warning|Exception)\b|"
    r"\bACPI\b.*\b(fail(s|ed|ure)?|error|invalid|bad|corrupt\w*|"
    r"mismatch|unable|cannot|can't)\b", re.I)
_TIME_SUBJECT = re.compile(
    r"clocksource|\btsc|timer|apic|\bhpet|\bpit\b|\brtc|\bclock\b|"
    r"calibrat|jiffies|watchdog|pm-timer|acpi_pm", re.I)
_TIME_TROUBLE = re.compile(
    r"unstable|unsynchroni[sz]ed|\bskew|\bfail|error|\bwarn|broken|bogus|"
    r"unreliable|\bdisabl|invalid|mismatch|not (working|stable|reliable)|"
    r"\btoo (large|long|fast|slow|big|small)|\blost\b|\bmissing|overflow|"
    r"doesn't|does not|isn't|unable|not (accessible|responding|connected)|"
    r"timed? ?out|stuck|\bbug\b|interrupt took", re.I)
_KERNEL = re.compile(
    r"\bWARNING:|\bBUG:|\bOops\b|Call Trace|\bRIP: |rcu.*stall|"
    r"unchecked MSR access error|do_boot_cpu failed|"
    r"smpboot: .*\b(fail|stuck|not responding)|"
    r"soft lockup|hard lockup|Tainted:|\[Firmware (Bug|Warn)\]|"
    r"Kernel panic")
# The dmesg timestamp; and numbers, which differ from boot to boot.
_STAMP = re.compile(r"^\[\s*\d+\.\d+\]\s*")
_NUMBER = re.compile(r"0x[0-9a-fA-F]+|\d+(\.\d+)?")

# Warnings QEMU TCG itself causes now and then, seen in anchor runs of this
# kernel but not in every one (of 11 runs: PIT calibration failed in 7, fast
# calibration in 1, delay calibration in 7, the TSCs unsynchronized in all):
# the vCPUs' TSCs, driven by host threads, do not stay in step, and a host
# thread that is descheduled looks like a slow PIT or a long interrupt.
# They count as explained whether this anchor run had them or not.
TCG_NOISE = [
    re.compile(r"tsc: Marking TSC unstable due to TSCs unsynchronized"),
    re.compile(r"tsc: Fast TSC calibration failed"),
    re.compile(r"tsc: Unable to calibrate against PIT"),
    re.compile(r"clocksource: .*Marking clocksource 'tsc(-early)?' as unstable"),
    re.compile(r"clocksource: +'[\w-]+' (wd_nsec|cs_nsec|wd_now|cs_now|is current)"),
    re.compile(r"TSC synchronization \[CPU#\d+ -> CPU#\d+\]"),
    re.compile(r"Measured \d+ cycles TSC warp between CPUs"),
    re.compile(r"Unstable clock detected, switching default tracing clock"),
    re.compile(r"calibrate_delay_direct\(\) failed to get a good estimate"),
    re.compile(r"hrtimer: interrupt took \d+ ns"),
    re.compile(r"sched: RT throttling activated"),
]

# Notes in warning words that say what the platform has, not that something
# went wrong: not warnings.
BENIGN = [
    # No IOMMU (neither Keel nor QEMU's PC has one): x2APIC without
    # interrupt remapping, fine below 255 CPUs. Keel offers x2APIC, qemu64
    # does not, so only Keel's run prints it.
    re.compile(r"x2apic: IRQ remapping doesn't support X2APIC mode"),
]


def stamp_strip(line):
    return _STAMP.sub("", line).strip()


def classify(line):
    """'acpi', 'timer', 'kernel' or None for one dmesg line."""
    text = stamp_strip(line)
    if any(rx.search(text) for rx in BENIGN):
        return None
    if _ACPI.search(text):
        return "acpi"
    if _TIME_SUBJECT.search(text) and _TIME_TROUBLE.search(text):
        return "timer"
    if _KERNEL.search(text):
        return "kernel"
    return None


def warnings(lines):
    """[(kind, line)] of the dmesg lines that are warnings, in order."""
    out = []
    for l in lines:
        kind = classify(l)
        if kind:
            out.append((kind, stamp_strip(l)))
    return out


def normalize(line):
    """A warning as compared between runs: no timestamp, numbers as #."""
    return _NUMBER.sub("#", stamp_strip(line))


def unexplained(found, anchor, noise=()):
    """The (kind, line) of found (warnings()) that neither the anchor's
    warnings (same shape) nor TCG_NOISE nor noise (more regexes) explain."""
    seen = {normalize(l) for _, l in anchor}
    noise = TCG_NOISE + list(noise)
    return [(k, l) for k, l in found
            if normalize(l) not in seen and
            not any(rx.search(l) for rx in noise)]


# -------------------------------------------------------- the console ----

class GuestShell:
    """The guest's console lines inside a console object's output (its
    output() and send()), and its shell. vm=None: the console is the
    guest's own serial port (the QEMU anchor); vm=<name>: Keel's console,
    where the guest's lines are "[<name>] <line>" and text reaches the
    guest's COM1 through Keel's shell command "vm <name> send <text>".
    Positions are indexes into all_lines(): whole lines only, so that a
    terminal escape or a line is never seen half-written. The prompt is a
    line of its own: commands are typed once it is there, when ash has the
    terminal (typed earlier, the tty echoes them and ash again)."""

    def __init__(self, console, vm=None):
        self.con = console
        self.vm = vm
        self.prefix = "[%s] " % vm if vm else ""
        self.pos = 0  # where the next prompt is looked for

    def all_lines(self):
        """Every complete console line so far, escapes removed."""
        return [clean(l) for l in self.con.output().split("\n")[:-1]]

    def lines(self, start=0, end=None):
        """The guest's lines among all_lines()[start:end], prefix removed."""
        p = self.prefix
        return [l[len(p):] for l in self.all_lines()[start:end]
                if l.startswith(p)]

    def wait(self, pattern, timeout, start=0, fail=()):
        """Wait for a guest line matching pattern (the whole line, prefix
        excluded) at or after line start; return (match, its line index,
        host monotonic time it was seen). Polls every 10 ms so that the time
        is good to a few ms. fail: regexes for whole console lines that end
        the wait with an AssertionError when one appears first, as do the
        emulator's exit and the timeout."""
        rx = re.compile(r"%s(?:%s)" % (re.escape(self.prefix), pattern))
        bad = [re.compile(f) for f in fail]
        deadline = time.monotonic() + timeout
        while True:
            lines = self.all_lines()
            now = time.monotonic()
            for i in range(start, len(lines)):
                m = rx.fullmatch(lines[i])
                if m:
                    return m, i, now
                for b in bad:
                    if b.fullmatch(lines[i]):
                        time.sleep(1)  # the lines that explain it
                        raise AssertionError(
                            "%r appeared while waiting for %r.\nConsole:\n%s"
                            % (lines[i], pattern, self.tail()))
            start = max(start, len(lines))
            proc = getattr(self.con, "proc", None)
            if proc is not None and proc.poll() is not None:
                time.sleep(0.3)  # let the reader drain
                lines = self.all_lines()
                for i in range(start, len(lines)):
                    m = rx.fullmatch(lines[i])
                    if m:
                        return m, i, time.monotonic()
                raise AssertionError(
                    "the emulator exited (%s) before %r appeared.\nConsole:\n%s"
                    % (proc.returncode, pattern, self.tail()))
            if now > deadline:
                raise AssertionError(
                    "timed out after %.0f s waiting for %r.\nConsole:\n%s"
                    % (timeout, pattern, self.tail()))
            time.sleep(0.01)

    def tail(self, n=80):
        return "\n".join(self.all_lines()[-n:])

    def type(self, command):
        """Type one command line into the guest's shell."""
        if self.vm:
            # Keel's shell takes lines of up to 127 characters.
            line = "vm %s send %s" % (self.vm, command)
            assert len(line) < 128, "too long for Keel's shell: %r" % line
            self.con.send(line + "\r")
        else:
            self.con.send(command + "\r")

    def prompt(self, timeout=60, fail=()):
        """Wait for the shell's next prompt line; return its index."""
        _, i, _ = self.wait(re.escape(PROMPT), timeout, self.pos, fail)
        self.pos = i + 1
        return i

    def enter(self, command, timeout=60, fail=()):
        """At the shell's next prompt, type command and wait for its echo;
        return (the echo's line index, the time it was seen)."""
        p = self.prompt(timeout, fail)
        self.type(command)
        # ash asks the terminal where the cursor is (ESC[6n) after the
        # prompt; Keel's console shows the ESC as '.'.
        _, i, t = self.wait(r"(?:\.\[6n)?" + re.escape(command), timeout,
                            p + 1, fail)
        self.pos = i + 1
        return i, t

    def run(self, command, end, timeout=60, fail=()):
        """enter() command, then wait for a line matching end; return (the
        guest's lines between the echo and that line, echo time, end time)."""
        i, t_echo = self.enter(command, timeout, fail)
        _, j, t_end = self.wait(end, timeout, i + 1, fail)
        self.pos = j + 1
        return self.lines(i + 1, j), t_echo, t_end

    # -- the initramfs's helpers --------------------------------------------
    def dmesg(self, mode="all", delay_us=0, timeout=120, fail=()):
        """dmesg through /bin/keel-dmesg: mode all (every line) or warn
        (those its grep keeps: a superset of what classify() takes), one
        line each delay_us; returns the lines."""
        lines, _, _ = self.run("keel-dmesg %s %d" % (mode, delay_us),
                               r"KEEL-GUEST: dmesg end", timeout, fail)
        begin = [i for i, l in enumerate(lines)
                 if l.startswith("KEEL-GUEST: dmesg begin")]
        assert begin, "no dmesg begin marker in %r" % lines[:5]
        return lines[begin[0] + 1:]

    def processors(self, timeout=60, fail=()):
        """How many processors /proc/cpuinfo lists."""
        lines, _, _ = self.run("grep -c ^processor /proc/cpuinfo; echo CPUINFO-END",
                               r"CPUINFO-END", timeout, fail)
        nums = [l for l in lines if re.fullmatch(r"\d+", l)]
        assert nums, "no count in %r" % lines
        return int(nums[-1])

    def sleep5(self, timeout=60, fail=()):
        """Host seconds of "date +%s; sleep 5; echo SLEPT": (from date's
        line to SLEPT, from the command's echo to SLEPT). The first leaves
        out starting date, which costs a nested guest a few tenths."""
        i, t_echo = self.enter("date +%s; sleep 5; echo SLEPT", timeout, fail)
        _, j, t_date = self.wait(r"\d+", timeout, i + 1, fail)
        _, k, t_end = self.wait("SLEPT", timeout, j + 1, fail)
        self.pos = k + 1
        return t_end - t_date, t_end - t_echo


    def guest_time(self, timeout=60, fail=()):
        """The guest's clock (its uptime, /proc/uptime, in seconds to the
        hundredth) and the host's wall clock when its line was seen."""
        i, _ = self.enter("cat /proc/uptime", timeout, fail)
        m, j, _ = self.wait(r"(\d+\.\d+) \d+\.\d+", timeout, i + 1, fail)
        host = time.time()
        self.pos = j + 1
        return float(m.group(1)), host


# ------------------------------------------------------------ in Keel ----

GUEST_DIR = "/keel/guests"


def keel_cfg(vms, extra=""):
    """keel.cfg text for VMs [(name, keel.msg)] running the Linux guest
    (extra: more of its command line), and the files it names as
    {path on the boot volume: local path} (DESIGN.md section 10)."""
    kernel, initrd = build()
    lines = []
    for name, msg in vms:
        lines += ["vm.%s.kernel=%s/vmlinuz" % (name, GUEST_DIR),
                  "vm.%s.initrd=%s/initramfs.cpio.gz" % (name, GUEST_DIR),
                  'vm.%s.cmdline="%s keel.msg=%s%s"' % (name, CMDLINE, msg,
                                                         extra),
                  "vm.%s.cpus=%d" % (name, CPUS),
                  "vm.%s.mem=%s" % (name, MEM)]
    files = {GUEST_DIR + "/vmlinuz": kernel,
             GUEST_DIR + "/initramfs.cpio.gz": initrd}
    return "\n".join(lines) + "\n", files


def keel_fail(name):
    """Keel console lines that end every wait on VM name at once: the VM
    stopped, or Keel logged an error about it (e.g. a refused kernel)."""
    return [r"keel: vm %s stopped reason=.*" % re.escape(name),
            r"\[\s*\d+\.\d+\] ERROR vm %s[: ].*" % re.escape(name)]


# ------------------------------------------------------- the anchor ----

class QemuLinux(QemuKeel):
    """The kernel and initramfs booted directly by QEMU (no firmware menu,
    no Keel): QemuKeel's serial socket, reader and waits, another command.
    -display none with the serial on a socket is -nographic without the
    monitor on stdio."""

    def __init__(self, tmp, kernel, initrd, cmdline=CMDLINE, smp=CPUS,
                 mem=MEM, machine=ANCHOR_MACHINE, cpu="qemu64",
                 extra_args=None):
        super().__init__(tmp, smp=smp, mem=mem, cpu=cpu, machine=machine,
                         extra_args=extra_args)
        self.kernel = kernel
        self.initrd = initrd
        self.append = cmdline

    def command(self):
        ser = os.path.join(self.tmp, "serial.sock")
        qmp = os.path.join(self.tmp, "qmp.sock")
        cmd = ["qemu-system-x86_64", "-machine", self.machine, "-accel", "tcg",
               "-cpu", self.cpu, "-smp", str(self.smp), "-m", self.mem,
               "-kernel", self.kernel, "-initrd", self.initrd,
               "-append", self.append,
               "-display", "none", "-no-reboot", "-nic", "none",
               "-chardev", "socket,id=ser0,path=%s,server=on,wait=on" % ser,
               "-serial", "chardev:ser0",
               "-qmp", "unix:%s,server=on,wait=off" % qmp]
        return cmd + self.extra_args, ser, qmp


class Anchor:
    """What one anchor run saw: boot_s (QEMU start to the userspace line),
    cpus (the init's nproc), processors (/proc/cpuinfo), dmesg (every line),
    warn_dmesg (keel-dmesg warn's lines), warnings (warnings(dmesg)),
    sleep_s and sleep_from_echo_s (host seconds of "sleep 5": sleep5()),
    poweroff_s (poweroff -f to QEMU's exit), exit_code (QEMU's), console
    (all of it)."""

    def __repr__(self):
        return "Anchor(boot_s=%.2f, cpus=%s, warnings=%d)" % (
            self.boot_s, self.cpus, len(self.warnings))


def run_anchor(tmp, cmdline=CMDLINE, smp=CPUS, mem=MEM, machine=ANCHOR_MACHINE,
               full=True, extra_args=None):
    """Boot the Linux guest directly under QEMU TCG in tmp (a folder) and
    return an Anchor. full=False stops after the boot time and powers off
    (what the benchmark needs)."""
    kernel, initrd = build()
    os.makedirs(str(tmp), exist_ok=True)
    q = QemuLinux(tmp, kernel, initrd, cmdline=cmdline, smp=smp, mem=mem,
                  machine=machine, extra_args=extra_args)
    a = Anchor()
    t0 = time.monotonic()
    q.start()
    try:
        sh = GuestShell(q)
        _, _, t_up = sh.wait(re.escape(USERSPACE), ANCHOR_TIMEOUT)
        a.boot_s = t_up - t0
        m, _, _ = sh.wait(r"KEEL-GUEST: cpus=(\d+)", 30)
        a.cpus = int(m.group(1))
        sh.wait(r"KEEL-GUEST: shell on ttyS0", 30)
        a.dmesg = a.warn_dmesg = []
        a.processors = a.sleep_s = a.sleep_from_echo_s = None
        if full:
            a.processors = sh.processors()
            a.dmesg = sh.dmesg("all")
            a.warn_dmesg = sh.dmesg("warn")
            a.sleep_s, a.sleep_from_echo_s = sh.sleep5()
        a.warnings = warnings(a.dmesg)
        sh.enter("poweroff -f", 30)
        t_off = time.monotonic()
        a.exit_code = q.wait_exit(60)
        a.poweroff_s = time.monotonic() - t_off
        a.console = "\n".join(sh.all_lines())
    finally:
        q.stop()
    return a
