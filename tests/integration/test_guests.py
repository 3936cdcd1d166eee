"""test_guests.py - the test guests of tests/guests/ under Keel (QEMU TCG,
SVM with NPT, 4 CPUs, GRUB ISO for speed).

- Every line of tests/guests/expected.txt becomes a VM; the VMs share a few
  Keel boots (several VMs per boot) and each line is one test.
- Six VMs at once over the four CPUs (one with 2 vCPUs) all finish.
- A VM that triple-faults and one that touches unmapped memory are stopped,
  alone, while the others run on and finish; Keel stays up.
- Without Keel: the built images have the shape Keel loads, and the
  expectations file parses (and its parser rejects bad lines).

KEEL_BACKEND (svm, the default, or vmx) picks the lines of expected.txt that
apply; KEEL_VM_TIMEOUT bounds how long a boot's VMs may take.
"""
import os
import re
import struct

import pytest

from keelvm import BUILD, ROOT, QemuKeel

GUESTS = os.path.join(BUILD, "guests")
EXPECTED = os.path.join(ROOT, "tests", "guests", "expected.txt")
BACKEND = os.environ.get("KEEL_BACKEND", "svm")
VM_TIMEOUT = float(os.environ.get("KEEL_VM_TIMEOUT", "400"))
GUEST_MEM = "32M"
VMS_PER_BOOT = 12      # keel.cfg takes 16; leave room, keep boots short
SMP = 4
MAX_CPUS = 16          # GUEST_MAX_CPUS in tests/guests/layout.h

STARTS = {"firmware": ("firmware", "rom"), "elf": ("kernel", "elf")}
REASONS = ("poweroff", "reset", "triple-fault", "bad-access", "entry-failed",
           "halted", "exit", "error")


# -------------------------------------------------------- expected.txt ----

class Case:
    """One line of expected.txt: one VM and what it must do."""

    def __init__(self, where, image, start, cpus):
        self.where = where
        self.image = image
        self.start = start
        self.cpus = cpus
        self.passes = []
        self.stop = None
        self.status = None
        self.detail = None
        self.lines = []
        self.only = None
        self.slow = False

    @property
    def name(self):
        return "%s-%s-%d" % (self.image, "fw" if self.start == "firmware"
                             else "elf", self.cpus)

    def image_path(self):
        return os.path.join(GUESTS, "%s.%s" % (self.image, STARTS[self.start][1]))

    def __repr__(self):
        return "%s (%s)" % (self.name, self.where)


def parse_expected(text, source="expected.txt"):
    """Parse the expectations format (tests/guests/README.md); raise
    ValueError naming source:line for anything malformed."""
    cases, seen = [], set()
    for n, raw in enumerate(text.splitlines(), 1):
        # '#' starts a comment at the start of a line or after blanks.
        line = re.sub(r"(^|\s)#.*$", "", raw).strip()
        if not line:
            continue
        where = "%s:%d" % (source, n)
        fields = line.split()
        if len(fields) < 4:
            raise ValueError("%s: want <image> <start> <cpus> <token>..." % where)
        image, start, cpus = fields[:3]
        if not re.fullmatch(r"[a-z0-9_]+", image):
            raise ValueError("%s: bad image name %r" % (where, image))
        if start not in STARTS:
            raise ValueError("%s: start %r is not firmware or elf" % (where, start))
        if not re.fullmatch(r"[1-9][0-9]*", cpus) or int(cpus) > MAX_CPUS:
            raise ValueError("%s: cpus %r is not 1..%d" % (where, cpus, MAX_CPUS))
        c = Case(where, image, start, int(cpus))
        for tok in fields[3:]:
            key, eq, val = tok.partition("=")
            if tok == "slow":
                c.slow = True
            elif not eq or not val:
                raise ValueError("%s: token %r is not key=value" % (where, tok))
            elif key == "pass":
                names = val.split(",")
                if any(not re.fullmatch(r"[a-z0-9-]+", x) for x in names) or \
                        len(set(names)) != len(names):
                    raise ValueError("%s: bad check list %r" % (where, val))
                c.passes += names
            elif key == "stop":
                if val not in REASONS:
                    raise ValueError("%s: unknown stop reason %r" % (where, val))
                c.stop = val
            elif key == "status":
                if not val.isdigit() or int(val) > 255:
                    raise ValueError("%s: status %r is not 0..255" % (where, val))
                c.status = int(val)
            elif key in ("detail", "line"):
                try:
                    re.compile(val)
                except re.error as e:
                    raise ValueError("%s: bad regex %r: %s" % (where, val, e))
                if key == "detail":
                    c.detail = val
                else:
                    c.lines.append(val)
            elif key == "only":
                if val not in ("svm", "vmx"):
                    raise ValueError("%s: only=%r is not svm or vmx" % (where, val))
                c.only = val
            else:
                raise ValueError("%s: unknown token %r" % (where, tok))
        if c.stop is None:
            raise ValueError("%s: no stop=<reason>" % where)
        if (c.stop == "exit") != (c.status is not None):
            raise ValueError("%s: status= goes with stop=exit, and only there"
                             % where)
        if c.passes and c.stop != "exit":
            raise ValueError("%s: pass= needs stop=exit" % where)
        if c.name in seen:
            raise ValueError("%s: %s %s %d is listed twice" % (where, image, start,
                                                             c.cpus))
        seen.add(c.name)
        cases.append(c)
    return cases


def load_expected():
    with open(EXPECTED) as f:
        return parse_expected(f.read())


try:
    CASES = load_expected()
except (OSError, ValueError):
    CASES = []  # test_expected_file_parses says why


def find_case(image, start, cpus):
    for c in CASES:
        if (c.image, c.start, c.cpus) == (image, start, cpus):
            return c
    raise AssertionError("expected.txt has no line for %s %s %d"
                         % (image, start, cpus))


# ------------------------------------------------------------ running ----

def keel_cfg(vms):
    """vms: [(vm name, Case)] -> (keel.cfg text, {boot path: local file})."""
    lines, files = [], {}
    for name, c in vms:
        key, ext = STARTS[c.start]
        dest = "/keel/guests/%s.%s" % (c.image, ext)
        path = c.image_path()
        if not os.path.isfile(path):
            pytest.fail("%s is not built (make all builds build/guests/)" % path)
        lines += ["vm.%s.%s=%s" % (name, key, dest),
                  "vm.%s.cpus=%d" % (name, c.cpus),
                  "vm.%s.mem=%s" % (name, GUEST_MEM)]
        files[dest] = path
    return "\n".join(lines) + "\n", files


def boot_with(make_keel, vms):
    cfg, files = keel_cfg(vms)
    k = make_keel(boot="iso", smp=SMP, mem="2G", cfg=cfg, files=files)
    r = k.wait_ready(timeout=180)
    assert r["virt"] == BACKEND, r
    return k


def stop_re(name):
    return r"^keel: vm %s stopped reason=(\S+)(?: (.*))?$" % re.escape(name)


def wait_stopped(k, names, timeout=VM_TIMEOUT):
    for name in names:
        k.wait_for(stop_re(name), timeout)


def vm_console(out, name):
    prefix = "[%s] " % name
    return [l[len(prefix):] for l in out.splitlines() if l.startswith(prefix)]


def check_results(lines):
    """{check: (status, line)} from "check <name>: pass|FAIL ...|skip ..."."""
    res, dup = {}, []
    for l in lines:
        m = re.match(r"check (\S+): (pass|FAIL|skip)\b", l)
        if m:
            if m.group(1) in res:
                dup.append(m.group(1))
            res[m.group(1)] = (m.group(2), l)
    return res, dup


def problems(out, name, c):
    """What VM name did against Case c; [] when it did all of it."""
    bad = []
    started = re.findall(r"^keel: vm %s started cpus=(\d+) mem_mib=(\d+)$"
                         % re.escape(name), out, re.M)
    if started != [(str(c.cpus), str(int(GUEST_MEM[:-1])))]:
        bad.append("started lines %r, want one with cpus=%d mem_mib=%s"
                   % (started, c.cpus, GUEST_MEM[:-1]))
    stops = re.findall(stop_re(name), out, re.M)
    if len(stops) != 1:
        bad.append("%d stop lines, want 1" % len(stops))
    else:
        reason, detail = stops[0]
        if reason != c.stop:
            bad.append("stopped reason=%s %s, want reason=%s"
                       % (reason, detail, c.stop))
        if c.detail and not re.search(c.detail, detail):
            bad.append("stop detail %r does not match %r" % (detail, c.detail))
        if reason == "exit" and c.stop == "exit":
            m = re.match(r"status=(\d+) passed=(\d+) failed=(\d+)", detail)
            want = (c.status, len(c.passes), 0)
            if not m or tuple(int(x) for x in m.groups()) != want:
                bad.append("stop detail %r, want status=%d passed=%d failed=%d"
                           % ((detail,) + want))
    lines = vm_console(out, name)
    res, dup = check_results(lines)
    if dup:
        bad.append("checks reported twice: %s" % ", ".join(dup))
    for p in c.passes:
        if p not in res:
            bad.append("check %s: no result line" % p)
        elif res[p][0] != "pass":
            bad.append(res[p][1])
    for check, (status, l) in sorted(res.items()):
        if status == "FAIL" and l not in bad:
            bad.append(l)
        elif status == "pass" and check not in c.passes:
            bad.append("check %s passed but %s does not list it" % (check, c.where))
    for rx in c.lines:
        if not any(re.search(rx, l) for l in lines):
            bad.append("no console line matches %r" % rx)
    return bad


def assert_vm(out, name, c):
    bad = problems(out, name, c)
    if bad:
        stop = re.search(stop_re(name), out, re.M)
        raise AssertionError(
            "VM %s (%s %s cpus=%d, %s):\n  %s\nits console:\n  %s\n%s"
            % (name, c.image, c.start, c.cpus, c.where, "\n  ".join(bad),
               "\n  ".join(vm_console(out, name)) or "(nothing)",
               stop.group(0) if stop else "(no stop line)"))


# ---------------------------------------------- expected.txt, one boot ----

def _chunks():
    run = [c for c in CASES if c.only in (None, BACKEND)]
    out = {}
    for slow in (False, True):
        group = [c for c in run if c.slow == slow]
        for i in range(0, len(group), VMS_PER_BOOT):
            key = ("slow" if slow else "fast", i // VMS_PER_BOOT)
            for c in group[i:i + VMS_PER_BOOT]:
                out[c.name] = (key, group[i:i + VMS_PER_BOOT])
    return out


CHUNKS = _chunks()


def _case_params():
    params = []
    for c in CASES:
        marks = []
        if c.slow:
            marks.append(pytest.mark.slow)
        if c.only not in (None, BACKEND):
            marks.append(pytest.mark.skip(reason="only=%s" % c.only))
        params.append(pytest.param(c, id=c.name, marks=marks))
    return params


@pytest.fixture(scope="module")
def shared_boots(tmp_path_factory):
    """Boots several expected.txt VMs at a time, the first time one of them
    is asked for; all boots end with the module."""
    boots = {}

    def get(c):
        key, group = CHUNKS[c.name]
        if key not in boots:
            def make(**kw):
                k = QemuKeel(tmp_path_factory.mktemp("guests-%s%d" % key), **kw)
                boots[key] = k
                return k.start()
            boot_with(make, [(x.name, x) for x in group])
        return boots[key]

    yield get
    for k in boots.values():
        k.stop()


@pytest.mark.parametrize("case", _case_params())
def test_expected(shared_boots, case):
    k = shared_boots(case)
    wait_stopped(k, [case.name])
    assert_vm(k.output(), case.name, case)
    assert not re.search(r"panic|PANIC", k.output()), k.output()[-3000:]


# ------------------------------------------------------ several at once ----

def test_six_vms_at_once(keel):
    """Six VMs over four CPUs, one of them with two vCPUs: all finish."""
    six = [("checks", "firmware", 2), ("checks", "elf", 1),
           ("checks", "firmware", 1), ("modes16", "firmware", 1),
           ("checks", "elf", 1), ("checks", "firmware", 1)]
    vms = [("six%d-%s" % (i, img), find_case(img, start, cpus))
           for i, (img, start, cpus) in enumerate(six)]
    assert sum(c.cpus for _, c in vms) == 7
    k = boot_with(keel, vms)
    wait_stopped(k, [n for n, _ in vms])
    out = k.output()
    for name, c in vms:
        assert_vm(out, name, c)


def test_faulting_vms_stop_alone(keel):
    """A triple fault and an access to unmapped memory stop those two VMs
    with their reasons and nothing else: the other VMs finish with every
    check passed, and Keel stays up (its console answers and lists every
    VM). Which VM runs when is the scheduler's business, not checked here."""
    faulty = [("trip", find_case("triple", "firmware", 1)),
              ("bada", find_case("badaccess", "elf", 1))]
    healthy = [("ok-fw2", find_case("checks", "firmware", 2)),
               ("ok-elf", find_case("checks", "elf", 1)),
               ("ok-m16", find_case("modes16", "firmware", 1))]
    k = boot_with(keel, faulty + healthy)
    wait_stopped(k, [n for n, _ in faulty + healthy])
    out = k.output()
    for name, c in faulty + healthy:
        assert_vm(out, name, c)
    assert not re.search(r"panic|PANIC", out), out[-3000:]
    # Keel itself is fine: the console lists the five VMs, all stopped.
    mark = len(k.output())
    k.send("vms\r")
    for name, c in faulty + healthy:
        k.wait_for(r"^\s+%s\s+stopped\b.*reason=%s" % (re.escape(name), c.stop),
                   30, start=mark)


# ------------------------------------------------------- without Keel ----

def test_expected_file_parses():
    cases = load_expected()
    assert cases, "expected.txt lists no VM"
    images = {c.image for c in cases}
    for c in cases:
        assert os.path.isfile(c.image_path()), \
            "%s: %s is not built (make all)" % (c.where, c.image_path())
    # Every image runs in both start modes, except modes16 (real mode only),
    # bench (exit timing does not depend on how the guest started) and flood
    # (the console's rate limit neither).
    for img in images - {"modes16", "bench", "flood"}:
        starts = {c.start for c in cases if c.image == img}
        assert starts == {"firmware", "elf"}, (img, starts)
    # The checks image lists every non-fatal check somewhere.
    listed = {p for c in cases for p in c.passes}
    for check in ("cpuid", "io-emulated", "io-unhandled", "msr-allowed",
                  "msr-emulated", "msr-denied", "hlt-timer", "mmio", "modes",
                  "smp-ap"):
        assert check in listed, check


@pytest.mark.parametrize("text,msg", [
    ("checks", "want <image>"),
    ("checks rom 1 stop=exit status=0", "is not firmware or elf"),
    ("checks elf 0 stop=exit status=0", "is not 1..16"),
    ("checks elf 99 stop=exit status=0", "is not 1..16"),
    ("checks elf x stop=exit status=0", "is not 1..16"),
    ("checks elf 1 stop=exit", "status= goes with stop=exit"),
    ("triple elf 1 stop=triple-fault status=0", "status= goes with stop=exit"),
    ("triple elf 1 pass=cpuid stop=triple-fault", "pass= needs stop=exit"),
    ("checks elf 1 stop=exit status=256", "is not 0..255"),
    ("checks elf 1 stop=explode", "unknown stop reason"),
    ("checks elf 1 stop=exit status=0 colour=red", "unknown token"),
    ("checks elf 1 stop=exit status=0 line=(", "bad regex"),
    ("checks elf 1 stop=exit status=0 pass=a,,b", "bad check list"),
    ("checks elf 1 stop=exit status=0 pass=a,a", "bad check list"),
    ("checks elf 1 stop=exit status=0 only=arm", "is not svm or vmx"),
    ("checks elf 1 pass=cpuid", "no stop="),
    ("Checks elf 1 stop=exit status=0", "bad image name"),
    ("checks elf 1 stop=exit status=0\nchecks elf 1 stop=halted", "listed twice"),
])
def test_expected_parser_rejects(text, msg):
    with pytest.raises(ValueError) as e:
        parse_expected("# a comment\n\n" + text, "t.txt")
    assert msg in str(e.value)
    assert re.match(r"t\.txt:\d+: ", str(e.value)), str(e.value)


def test_expected_parser_reads_tokens():
    c, = parse_expected("  # c\nchecks elf 2 pass=a,b stop=exit status=3 "
                        "line=^x line=y detail=z only=vmx slow   # tail\n")
    assert (c.image, c.start, c.cpus, c.passes, c.stop, c.status) == \
        ("checks", "elf", 2, ["a", "b"], "exit", 3)
    assert (c.lines, c.detail, c.only, c.slow, c.name) == \
        (["^x", "y"], "z", "vmx", True, "checks-elf-2")


def _elf_segments(data):
    """(entry, [(vaddr, paddr, bytes, memsz)]) of an ELF64 x86-64 ET_EXEC."""
    assert data[:4] == b"\x7fELF" and data[4] == 2 and data[5] == 1, "not ELF64 LSB"
    e_type, e_machine = struct.unpack_from("<HH", data, 16)
    assert (e_type, e_machine) == (2, 62), "not an x86-64 executable"
    entry, phoff = struct.unpack_from("<QQ", data, 24)
    phentsize, phnum = struct.unpack_from("<HH", data, 54)
    segs = []
    for i in range(phnum):
        p_type, _, off, vaddr, paddr, filesz, memsz = struct.unpack_from(
            "<IIQQQQQ", data, phoff + i * phentsize)
        if p_type == 1:
            segs.append((vaddr, paddr, data[off:off + filesz], memsz))
    return entry, segs


@pytest.mark.parametrize("image", sorted({c.image for c in CASES}))
def test_guest_image_shape(image):
    """The ROM is what vm.<name>.firmware takes (a multiple of 4 KiB, below
    64 KiB, a jump in the reset vector); the ELF is what vm.<name>.kernel
    takes (entry at 1 MiB, segments in [0x8000, 3 GiB)); and the ROM carries
    the ELF's bytes for the stub to copy to 1 MiB."""
    with open(os.path.join(GUESTS, image + ".rom"), "rb") as f:
        rom = f.read()
    assert len(rom) % 4096 == 0 and 4096 <= len(rom) < 65536, len(rom)
    assert rom[-16] in (0xE9, 0xEB), "no jmp at the reset vector"
    elf_path = os.path.join(GUESTS, image + ".elf")
    if not any(c.image == image and c.start == "elf" for c in CASES):
        return  # real mode only
    with open(elf_path, "rb") as f:
        data = f.read()
    assert len(data) < 65536, len(data)
    entry, segs = _elf_segments(data)
    assert entry == 0x100000
    for vaddr, paddr, body, memsz in segs:
        assert vaddr == paddr and 0x100000 <= paddr and paddr + memsz <= 3 << 30
    # objcopy -O binary: the file-backed bytes from 1 MiB on, gaps zeroed.
    end = max((p + len(b) for _, p, b, _ in segs if b), default=0x100000)
    flat = bytearray(end - 0x100000)
    for _, paddr, body, _ in segs:
        flat[paddr - 0x100000:paddr - 0x100000 + len(body)] = body
    assert flat and rom[:len(flat)] == bytes(flat), \
        "the ROM does not start with the payload"
    assert len(flat) <= len(rom) - 4096, "payload overlaps the stub page"
