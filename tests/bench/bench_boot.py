"""bench_boot.py - boot figures, one "bench <name> <value> <unit>" line each:
the size of the one EFI file (DESIGN.md target: <= 2 MiB), and how long Keel
takes from the loader's first line to the ready line, under OVMF (USB) and
GRUB (ISO), on 4 CPUs with 2 GiB, median of 3 boots."""
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from keelvm import BUILD, QemuKeel  # noqa: E402


def stamp_boot(boot, first_marker):
    with tempfile.TemporaryDirectory() as tmp:
        k = QemuKeel(tmp, boot=boot, smp=4, mem="2G")
        t0 = time.monotonic()
        k.start()
        try:
            k.wait_for(first_marker, 240)
            t1 = time.monotonic()
            k.wait_ready(240)
            t2 = time.monotonic()
        finally:
            k.stop()
    return t1 - t0, t2 - t1


def main():
    size = os.path.getsize(os.path.join(BUILD, "BOOTX64.EFI"))
    print("bench efi_file_size %d bytes" % size)
    print("bench efi_file_size ratio %.3f vs 2MiB_target" % (size / (2 << 20)))
    for boot, marker, name in (("usb", r"keel-loader: Keel UEFI loader", "uefi"),
                               ("iso", r"keel: Keel .* starting", "multiboot2")):
        fw, kern = [], []
        for _ in range(3):
            a, b = stamp_boot(boot, marker)
            fw.append(a)
            kern.append(b)
        print("bench firmware_to_keel_%s %.2f s" % (name, statistics.median(fw)))
        print("bench keel_to_ready_%s %.2f s" % (name, statistics.median(kern)))


if __name__ == "__main__":
    main()
