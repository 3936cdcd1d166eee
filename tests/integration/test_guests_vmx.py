"""test_guests_vmx.py - the test guests of tests/guests/expected.txt under
Keel's VMX backend in Bochs: the same expectations file as the SVM run under
QEMU, the same per-check results.

- make test: one boot (tigerlake, 1 CPU) with a subset: checks from the
  reset state and from Keel's 64-bit start, real mode, a triple fault and a
  bad access (a failed VM stops alone).
- make test-slow: every line of expected.txt (bench excepted: its exit loops
  are `make bench`) on tigerlake with 2 CPUs and on
  corei7_sandy_bridge_2600k (the fewest VMX features), a few VMs per boot.
Bochs runs ~120k exits/s on one host thread for all its CPUs: keep it small.
"""
import re
import shutil

import pytest

from keelbochs import BochsKeel
from test_guests import CASES, assert_vm, keel_cfg, stop_re

pytestmark = pytest.mark.skipif(shutil.which("bochs-bin") is None,
                                reason="bochs is not installed (make deps)")

VM_TIMEOUT = 600
FAST = [("checks", "firmware", 1), ("checks", "elf", 1),
        ("modes16", "firmware", 1), ("triple", "firmware", 1),
        ("badaccess", "elf", 1)]


def vmx_cases():
    return [c for c in CASES if c.only in (None, "vmx") and c.image != "bench"]


def run_boot(tmp, cases, model, cpus):
    vms = [("%s" % c.name.replace("-", "_"), c) for c in cases]
    cfg, files = keel_cfg(vms)
    k = BochsKeel(tmp, model=model, cpus=cpus, cfg=cfg, files=files).start()
    try:
        r = k.wait_ready(timeout=60)
        assert r["virt"] == "vmx", r
        for name, _ in vms:
            k.wait_for(stop_re(name), VM_TIMEOUT)
        out = k.output()
    finally:
        k.stop()
    for name, c in vms:
        assert_vm(out, name, c)
    assert not re.search(r"panic|PANIC", out), out[-3000:]


def test_vmx_subset(tmp_path):
    cases = [c for c in vmx_cases() if (c.image, c.start, c.cpus) in FAST]
    assert len(cases) == len(FAST)
    run_boot(tmp_path, cases, "tigerlake", 1)


@pytest.mark.slow
@pytest.mark.parametrize("model,cpus", [("tigerlake", 2),
                                        ("corei7_sandy_bridge_2600k", 1)])
def test_vmx_all(tmp_path, model, cpus):
    # Bochs runs every emulated CPU on one host thread, ~100x slower than
    # TCG: a VM with 2 vCPUs boots alone (its AP spins while vCPU 0 works),
    # the others two at a time, so no vCPU waits behind more than one other.
    cases = vmx_cases()
    groups = [[c] for c in cases if c.cpus > 1]
    single = [c for c in cases if c.cpus == 1]
    groups += [single[i:i + 2] for i in range(0, len(single), 2)]
    for i, group in enumerate(groups):
        run_boot(tmp_path / ("boot%d" % i), group, model, cpus)
