"""keelvm.py - run Keel in QEMU for the integration tests.

One QemuKeel is one boot: it builds what the boot needs (a USB disk image with
the test's keel.cfg and files, a PXE directory, or a GRUB ISO) in the test's
temporary directory, starts QEMU with a fresh OVMF VARS copy, connects to the
serial console (a unix socket, so tests can type) and to QMP, and lets a test
wait for console lines. Networking is always user-mode with restrict=on.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.join(ROOT, "build")
OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"
READY_RE = re.compile(
    r"^keel: ready cpus=(\d+) mem_mib=(\d+) virt=(svm|vmx|none) boot=(uefi|multiboot2)\r?$",
    re.M)

# OVMF under TCG on two shared cores takes a while; generous, but bounded.
BOOT_TIMEOUT = float(os.environ.get("KEEL_BOOT_TIMEOUT", "240"))


class QemuKeel:
    def __init__(self, tmp, boot="usb", smp=4, mem="2G", cfg=None, cmdline=None,
                 files=None, cpu="qemu64,+svm,+npt", machine="q35",
                 extra_args=None):
        self.tmp = str(tmp)
        self.boot = boot
        self.smp = smp
        self.mem = mem
        self.cfg = cfg
        self.cmdline = cmdline
        self.files = files or {}
        self.cpu = cpu
        self.machine = machine
        self.extra_args = extra_args or []
        self.proc = None
        self.out = ""
        self.lock = threading.Lock()
        self.serial = None
        self.log_path = os.path.join(self.tmp, "serial.log")

    # -- building the boot medium ------------------------------------------
    def _write(self, name, data):
        path = os.path.join(self.tmp, name)
        mode = "wb" if isinstance(data, bytes) else "w"
        with open(path, mode) as f:
            f.write(data)
        return path

    def _usb_image(self):
        img = os.path.join(self.tmp, "keel-usb.img")
        extra = []
        if self.cfg is not None:
            extra.append(self._write("keel.cfg", self.cfg) + ":\\keel\\keel.cfg")
        for dest, data in self.files.items():
            local = self._write("file-%d" % len(extra), data)
            extra.append(local + ":" + dest)
        subprocess.run([os.path.join(ROOT, "scripts", "mkusb.sh"),
                        os.path.join(BUILD, "BOOTX64.EFI"), img] + extra,
                       check=True, capture_output=True)
        return img

    def _pxe_dir(self):
        d = os.path.join(self.tmp, "pxe")
        subprocess.run([os.path.join(ROOT, "scripts", "mkpxe.sh"),
                        os.path.join(BUILD, "BOOTX64.EFI"), d],
                       check=True, capture_output=True)
        if self.cfg is not None:
            os.makedirs(os.path.join(d, "keel"), exist_ok=True)
            with open(os.path.join(d, "keel", "keel.cfg"), "w") as f:
                f.write(self.cfg)
        for dest, data in self.files.items():
            rel = dest.replace("\\", "/").lstrip("/")
            path = os.path.join(d, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb" if isinstance(data, bytes) else "w") as f:
                f.write(data)
        return d

    def _iso(self):
        iso = os.path.join(self.tmp, "keel.iso")
        args = [os.path.join(ROOT, "scripts", "mkiso.sh"),
                os.path.join(BUILD, "kernel.elf"), iso,
                self._write("keel.cfg", self.cfg) if self.cfg is not None else "",
                self.cmdline or ""]
        for n, (dest, data) in enumerate(self.files.items()):
            if isinstance(data, str) and os.path.isfile(data):
                local = data  # a path to an existing file (a built guest)
            else:
                local = self._write("file-%d" % n, data)
            args.append(local + ":" + dest)
        subprocess.run(args, check=True, capture_output=True)
        return iso

    def command(self):
        ser = os.path.join(self.tmp, "serial.sock")
        qmp = os.path.join(self.tmp, "qmp.sock")
        cmd = ["qemu-system-x86_64", "-machine", self.machine, "-accel", "tcg",
               "-cpu", self.cpu, "-smp", str(self.smp), "-m", self.mem,
               "-display", "none", "-vga", "std", "-no-reboot",
               "-chardev", "socket,id=ser0,path=%s,server=on,wait=on" % ser,
               "-serial", "chardev:ser0",
               "-qmp", "unix:%s,server=on,wait=off" % qmp]
        if self.boot in ("usb", "pxe"):
            vars_copy = os.path.join(self.tmp, "vars.fd")
            shutil.copy(OVMF_VARS, vars_copy)  # fresh every run
            cmd += ["-drive", "if=pflash,format=raw,readonly=on,file=" + OVMF_CODE,
                    "-drive", "if=pflash,format=raw,file=" + vars_copy]
        if self.boot == "usb":
            cmd += ["-drive", "if=none,id=usb0,format=raw,file=" + self._usb_image(),
                    "-device", "qemu-xhci", "-device", "usb-storage,drive=usb0",
                    "-netdev", "user,id=n0,restrict=on",
                    "-device", "virtio-net-pci,netdev=n0,romfile="]
        elif self.boot == "pxe":
            cmd += ["-netdev", "user,id=n0,restrict=on,tftp=%s,bootfile=BOOTX64.EFI"
                    % self._pxe_dir(),
                    "-device", "virtio-net-pci,netdev=n0,romfile="]
        elif self.boot == "iso":
            cmd += ["-cdrom", self._iso(), "-boot", "d"]
        return cmd + self.extra_args, ser, qmp

    # -- running -------------------------------------------------------------
    def start(self):
        cmd, ser, self.qmp_path = self.command()
        self.cmdline_used = cmd
        self.stderr = open(os.path.join(self.tmp, "qemu.stderr"), "w")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=self.stderr, stderr=self.stderr)
        deadline = time.time() + 30
        while True:
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(ser)
                break
            except OSError:
                s.close()
                if time.time() > deadline or self.proc.poll() is not None:
                    raise RuntimeError("QEMU did not start: %s" % self._stderr())
                time.sleep(0.1)
        self.serial = s
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        return self

    def _read(self):
        with open(self.log_path, "w") as log:
            while True:
                try:
                    data = self.serial.recv(4096)
                except OSError:
                    break
                if not data:
                    break
                text = data.decode("utf-8", "replace")
                log.write(text)
                log.flush()
                with self.lock:
                    self.out += text

    def _stderr(self):
        try:
            with open(os.path.join(self.tmp, "qemu.stderr")) as f:
                return f.read()[-2000:]
        except OSError:
            return ""

    def output(self):
        """The console so far, with the serial line's CRs removed."""
        with self.lock:
            return self.out.replace("\r", "")

    def wait_for(self, pattern, timeout=BOOT_TIMEOUT, start=0):
        """Wait until pattern (a regex) appears in the console output at or
        after offset start; return the match."""
        rx = re.compile(pattern, re.M)
        deadline = time.time() + timeout
        while True:
            m = rx.search(self.output(), start)
            if m:
                return m
            if self.proc.poll() is not None:
                time.sleep(0.3)  # let the reader drain
                m = rx.search(self.output(), start)
                if m:
                    return m
                raise AssertionError(
                    "QEMU exited (%s) before %r appeared.\nConsole:\n%s\nQEMU: %s"
                    % (self.proc.returncode, pattern, self.output()[-4000:],
                       self._stderr()))
            if time.time() > deadline:
                raise AssertionError("timed out after %ss waiting for %r.\nConsole:\n%s"
                                     % (timeout, pattern, self.output()[-4000:]))
            time.sleep(0.2)

    def wait_ready(self, timeout=BOOT_TIMEOUT):
        m = self.wait_for(READY_RE.pattern, timeout)
        return {"cpus": int(m.group(1)), "mem_mib": int(m.group(2)),
                "virt": m.group(3), "boot": m.group(4), "end": m.end()}

    def send(self, text):
        self.serial.sendall(text.encode())

    def qmp(self, command, **args):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(self.qmp_path)
        f = s.makefile("rw")
        json.loads(f.readline())  # greeting
        for cmd in ({"execute": "qmp_capabilities"},
                    {"execute": command, "arguments": args}):
            f.write(json.dumps(cmd) + "\n")
            f.flush()
            while True:
                reply = json.loads(f.readline())
                if "return" in reply or "error" in reply:
                    break
        s.close()
        return reply

    def wait_exit(self, timeout=60):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("QEMU still running after %ss.\nConsole:\n%s"
                                 % (timeout, self.output()[-3000:]))

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.serial:
            self.serial.close()
        if getattr(self, "stderr", None):
            self.stderr.close()
