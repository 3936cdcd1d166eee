"""bench_linux.py - how long an unmodified Linux guest (Debian's cloud
kernel and the busybox initramfs of scripts/linux-guest.sh, 2 vCPUs,
512 MiB) takes to reach userspace under Keel, beside the QEMU anchor:

- linux_boot_keel: Keel (SVM, QEMU TCG, USB image under OVMF, 2 CPUs) from
  its "keel: vm linux started" line to the guest's first userspace line,
  "KEEL-GUEST: userspace up". One boot (KEEL_BENCH_LINUX_RUNS for more).
- linux_boot_qemu: the same kernel and initramfs booted directly by QEMU at
  the same TCG settings, from QEMU's start to the same line (this includes
  QEMU's own start and SeaBIOS, under a second). Median of 3.

Prints "bench <name> <value> <unit>" and "bench linux_boot ratio <r> vs
qemu_direct". Without the kernel (make deps), or when Keel does not bring
the guest up, says why on stderr and prints what it has.
"""
import os
import re
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
import linuxguest as lg  # noqa: E402
from keelvm import QemuKeel  # noqa: E402

TIMEOUT = float(os.environ.get("KEEL_LINUX_TIMEOUT", "900"))


def keel_boot():
    """Seconds from Keel's started line to the guest's userspace line."""
    cfg, files = lg.keel_cfg([("linux", "bench")])
    data = {}
    for dest, path in files.items():
        with open(path, "rb") as f:
            data[dest] = f.read()
    with tempfile.TemporaryDirectory() as tmp:
        k = QemuKeel(tmp, boot="usb", smp=2, mem="2G", cfg=cfg, files=data)
        k.start()
        try:
            k.wait_ready()
            host = lg.GuestShell(k)
            fail = lg.keel_fail("linux")
            _, _, t0 = host.wait(r"keel: vm linux started .*", TIMEOUT,
                                 fail=fail)
            _, _, t1 = lg.GuestShell(k, vm="linux").wait(
                re.escape(lg.USERSPACE), TIMEOUT, fail=fail)
        finally:
            k.stop()
    return t1 - t0


def anchor_boot():
    with tempfile.TemporaryDirectory() as tmp:
        return lg.run_anchor(tmp, full=False).boot_s


def main():
    why = lg.missing_reason()
    if why:
        print("bench_linux: skipped: %s" % why, file=sys.stderr)
        return
    qemu = statistics.median(anchor_boot() for _ in range(3))
    print("bench linux_boot_qemu %.2f s" % qemu)
    runs = int(os.environ.get("KEEL_BENCH_LINUX_RUNS", "1"))
    try:
        keel = statistics.median(keel_boot() for _ in range(runs))
    except AssertionError as e:
        print("bench_linux: no Keel figure, the guest did not reach "
              "userspace: %s" % str(e)[:3000], file=sys.stderr)
        return
    print("bench linux_boot_keel %.2f s" % keel)
    print("bench linux_boot ratio %.2f vs qemu_direct" % (keel / qemu))


if __name__ == "__main__":
    main()
