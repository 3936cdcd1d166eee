"""The VM lifecycle on SVM under QEMU TCG: VMs made and destroyed many times
give back every page; the console's VM commands drive pause, resume, reset
and stop."""
import re

import pytest


def test_vm_create_destroy_50_times_leaks_nothing(keel):
    k = keel(boot="iso", smp=4, mem="1G", cmdline="selftest=vmcycle")
    k.wait_ready(timeout=120)
    m = k.wait_for(r"^selftest vmcycle: (ok|FAILED) \((.*)\)$", 240)
    assert m.group(1) == "ok", m.group(0)
    assert "50 VMs created and destroyed" in m.group(2)
