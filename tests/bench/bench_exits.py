"""bench_exits.py - the cost of a VM exit on Keel's SVM backend under QEMU TCG,
beside its anchors in the same emulator (DESIGN.md section 8):

- Keel: the bench guest (tests/guests/bench.c) runs 100k exits of each kind
  (CPUID, OUT to an emulated port, MMIO write, VMMCALL) between two bench
  markers; Keel timestamps the markers. Median of 3 boots.
- bare_vmrun_loop: the svm-tcg probe's bare VMRUN loop (the floor of an exit
  in this emulator), from ../shared/recipes/svm-tcg.
- kvm_tcg: Linux KVM as the L1 hypervisor in the same emulator, from
  ../shared/anchors/kvm-in-tcg/run.sh.
- bochs_vmx: the same bench guest on the VMX backend under Bochs (tigerlake,
  one CPU); Bochs has no anchor to compare with, the figures stand alone.

Prints "bench <name> <value> <unit>" and "bench <name> ratio <r> vs <anchor>".
KEEL_BENCH_ANCHORS=0 skips the anchors (they take a few minutes).
"""
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from keelvm import BUILD, ROOT, QemuKeel  # noqa: E402

ITERS = 100000
KINDS = [("cpuid", 0), ("pio_out", 2), ("mmio_write", 4), ("vmmcall", 6)]
SHARED = os.path.join(ROOT, "..", "shared")


def per_exit_ns(out):
    """ns per exit of each kind, from Keel's bench marker lines."""
    ns = {}
    for name, m in KINDS:
        hit = re.search(r"keel: vm bench bench marker %d-%d (\d+) ns" % (m, m + 1), out)
        if hit:
            ns[name] = int(hit.group(1)) / ITERS
    return ns


# The guest waits for the console's "vm bench start": on one CPU, the
# management thread's boot-time work (entropy, the P-256 certificate, DHCP:
# a second or more under TCG) would otherwise share the CPU with the first
# exit loop and inflate it.
BENCH_CFG = ("vm.bench.kernel=/keel/guests/bench.elf\nvm.bench.mem=64M\n"
             "vm.bench.autostart=no\n")


def start_when_quiet(k, timeout):
    """Start the bench VM once management has its certificate and, when
    there is a NIC, its address (or gave up)."""
    m = k.wait_for(r"\] (?:tls: .*certificate|ERROR mgmt: )", timeout)
    if "ERROR" not in m.group(0) and "net: no network device" not in k.output():
        try:
            k.wait_for(r"^keel: mgmt https://|net: .*DHCP did not start", 60)
        except AssertionError:
            pass  # no address yet: measure anyway
    k.send("vm bench start\r")


def keel_run():
    # The 64-bit start: guest RAM from 0 in 2 MiB nested pages, as the
    # probe behind the bare-loop anchor has it.
    with tempfile.TemporaryDirectory() as tmp:
        k = QemuKeel(tmp, boot="iso", smp=1, mem="512M", cfg=BENCH_CFG,
                     files={"/keel/guests/bench.elf":
                            os.path.join(BUILD, "guests", "bench.elf")})
        k.start()
        try:
            start_when_quiet(k, 600)
            k.wait_for(r"^keel: vm bench stopped", 600)
            out = k.output()
        finally:
            k.stop()
    return per_exit_ns(out)


def bochs_run():
    """The same bench guest on the VMX backend under Bochs (tigerlake)."""
    from keelbochs import BochsKeel
    with tempfile.TemporaryDirectory() as tmp:
        # Bochs has no console input: the VM starts at boot, beside the
        # management thread's start (see BENCH_CFG).
        k = BochsKeel(tmp, model="tigerlake", cpus=1,
                      cfg=BENCH_CFG.replace("autostart=no", "autostart=yes"),
                      limit=900, files={"/keel/guests/bench.elf":
                                        os.path.join(BUILD, "guests", "bench.elf")})
        k.start()
        try:
            k.wait_for(r"^keel: vm bench stopped", 900)
            out = k.output()
        finally:
            k.stop()
    return per_exit_ns(out)


def bare_loop():
    """Median ns of the probe's bare VMRUN CPUID loop (kind 2)."""
    src = os.path.join(SHARED, "recipes", "svm-tcg")
    with tempfile.TemporaryDirectory() as tmp:
        dst = os.path.join(tmp, "svm-tcg")
        shutil.copytree(src, dst)
        for p in ("build.sh", "run_probe.py"):
            os.chmod(os.path.join(dst, p), 0o755)
        subprocess.run(["./build.sh"], cwd=dst, check=True, capture_output=True)
        r = subprocess.run(["/usr/bin/python3", "run_probe.py", "--runs", "1",
                            "--append", "iters=100000 reps=3"], cwd=dst,
                           capture_output=True, text=True, timeout=900)
    m = re.search(r"kind 2 .*median: (\d+) ns", r.stdout)
    return float(m.group(1)) if m else None


def kvm_anchor():
    run = os.path.join(SHARED, "anchors", "kvm-in-tcg", "run.sh")
    env = dict(os.environ, ANCHOR_WORK=os.environ.get("ANCHOR_WORK", "/var/tmp/anchor-kvm"))
    r = subprocess.run(["bash", run, "-r", "1", "-t", "2", "--no-l2"],
                       capture_output=True, text=True, timeout=1800, env=env)
    figures = {}
    for name, key in (("cpuid", "cpuid_exit_ns"), ("vmmcall", "vmmcall_exit_ns"),
                      ("pio_out", "pio_out_exit_ns"), ("mmio_write", "mmio_exit_ns")):
        m = re.search(r"%s=([\d.]+)" % key, r.stdout)
        if m:
            figures[name] = float(m.group(1))
    return figures


def main():
    runs = [keel_run() for _ in range(3)]
    keel = {}
    for name, _ in KINDS:
        vals = [r[name] for r in runs if name in r]
        if vals:
            keel[name] = statistics.median(vals)
            print("bench svm_%s_exit %.0f ns" % (name, keel[name]))
            print("bench svm_%s_exits_per_s %.0f exits/s" % (name, 1e9 / keel[name]))
    if shutil.which("bochs-bin"):
        vmx = bochs_run()
        for name, _ in KINDS:
            if name in vmx:
                print("bench bochs_vmx_%s_exit %.0f ns" % (name, vmx[name]))
                print("bench bochs_vmx_%s_exits_per_s %.0f exits/s"
                      % (name, 1e9 / vmx[name]))
    if os.environ.get("KEEL_BENCH_ANCHORS", "1") == "0":
        return
    floor = bare_loop()
    if floor:
        print("bench bare_vmrun_loop_cpuid_exit %.0f ns" % floor)
        for name in ("cpuid", "vmmcall"):
            if name in keel:
                print("bench svm_%s_exit ratio %.2f vs bare_vmrun_loop" % (name, keel[name] / floor))
    kvm = kvm_anchor()
    for name, ns in kvm.items():
        print("bench kvm_tcg_%s_exit %.0f ns" % (name, ns))
        if name in keel:
            print("bench svm_%s_exit ratio %.2f vs kvm_tcg" % (name, keel[name] / ns))


if __name__ == "__main__":
    main()
