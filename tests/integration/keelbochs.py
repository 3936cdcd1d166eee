"""keelbochs.py - run Keel under Bochs (Intel VMX) for the integration tests.

One BochsKeel is one boot: it builds a GRUB ISO with the test's keel.cfg and
files (scripts/mkiso.sh), runs scripts/run-bochs.sh (headless, COM1 to a
file, killed by its own timeout and by stop()), and lets a test wait for
console lines, like keelvm.QemuKeel. COM1 is output only: no typing.
"""
import os
import re
import signal
import subprocess
import time

from keelvm import BUILD, READY_RE, ROOT

MODELS = ("tigerlake", "corei7_sandy_bridge_2600k")


class BochsKeel:
    def __init__(self, tmp, model="tigerlake", cpus=1, megs=512, cfg=None,
                 files=None, cmdline="", limit=600, uefi=False):
        self.tmp = str(tmp)
        os.makedirs(self.tmp, exist_ok=True)
        self.model = model
        self.cpus = cpus
        self.megs = megs
        self.cfg = cfg
        self.files = files or {}
        self.cmdline = cmdline
        self.limit = limit
        self.uefi = uefi  # OVMF and the EFI file on a UEFI El Torito CD
        self.proc = None
        self.com1 = os.path.join(self.tmp, "bochs", "com1.txt")

    def _efi_iso(self):
        iso = os.path.join(self.tmp, "keel-efi.iso")
        specs = ["%s:%s" % (local, dest) for dest, local in self.files.items()]
        if self.cfg is not None:
            cfg = os.path.join(self.tmp, "keel.cfg")
            with open(cfg, "w") as f:
                f.write(self.cfg)
            specs.append(cfg + ":/keel/keel.cfg")
        subprocess.run([os.path.join(ROOT, "scripts", "mkefiiso.sh"),
                        os.path.join(BUILD, "BOOTX64.EFI"), iso] + specs,
                       check=True, capture_output=True)
        return iso

    def _iso(self):
        if self.uefi:
            return self._efi_iso()
        iso = os.path.join(self.tmp, "keel.iso")
        cfg = ""
        if self.cfg is not None:
            cfg = os.path.join(self.tmp, "keel.cfg")
            with open(cfg, "w") as f:
                f.write(self.cfg)
        specs = ["%s:%s" % (local, dest) for dest, local in self.files.items()]
        subprocess.run([os.path.join(ROOT, "scripts", "mkiso.sh"),
                        os.path.join(BUILD, "kernel.elf"), iso, cfg,
                        self.cmdline] + specs, check=True, capture_output=True)
        return iso

    def start(self):
        iso = self._iso()
        self.proc = subprocess.Popen(
            [os.path.join(ROOT, "scripts", "run-bochs.sh"), "-m", self.model,
             "-c", str(self.cpus), "-M", str(self.megs), "-t", str(self.limit),
             "-o", os.path.join(self.tmp, "bochs")] + (["-u"] if self.uefi else [])
            + [iso],
            stdin=subprocess.DEVNULL, start_new_session=True)
        return self

    def output(self):
        try:
            with open(self.com1, "rb") as f:
                return f.read().decode("utf-8", "replace").replace("\r", "")
        except OSError:
            return ""

    def wait_for(self, regex, timeout, start=0):
        rx = re.compile(regex, re.M)
        end = time.monotonic() + timeout
        while True:
            # Whole lines only: Bochs writes COM1 as it goes, and a "$"
            # would match a line it has only half written.
            out = self.output()
            m = rx.search(out[:out.rfind("\n") + 1], start)
            if m:
                return m
            if self.proc.poll() is not None or time.monotonic() > end:
                raise AssertionError(
                    "no line matching %r within %ds (bochs %s); COM1 ends:\n%s"
                    % (regex, timeout, "exited" if self.proc.poll() is not None
                       else "running", self.output()[-3000:]))
            time.sleep(0.2)

    def wait_ready(self, timeout=60):
        m = self.wait_for(READY_RE.pattern, timeout)
        return {"cpus": int(m.group(1)), "mem_mib": int(m.group(2)),
                "virt": m.group(3), "boot": m.group(4)}

    def stop(self):
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
