"""Keel's bring-up on an Intel CPU model under Bochs: what QEMU's TCG cannot
show - the x2APIC mode and the TSC-deadline timer (tigerlake has both), IPIs
through x2APIC, and virtualization detected as VMX."""
import re
import shutil

import pytest

from keelbochs import BochsKeel

pytestmark = pytest.mark.skipif(shutil.which("bochs-bin") is None,
                                reason="bochs is not installed (make deps)")


@pytest.mark.parametrize("x2apic", ["yes", "no"])
def test_x2apic_and_tsc_deadline_on_tigerlake(tmp_path, x2apic):
    k = BochsKeel(str(tmp_path), model="tigerlake", cpus=2,
                  cmdline="x2apic=%s selftest=threads,xcall,spinlock,sleep" % x2apic)
    k.start()
    try:
        r = k.wait_ready(timeout=120)
        assert r["cpus"] == 2 and r["virt"] == "vmx" and r["boot"] == "multiboot2"
        m = k.wait_for(r"^selftest: (\d+) passed, (\d+) failed", 180)
        out = k.output()
        assert m.group(2) == "0", out
        if x2apic == "yes":
            assert "lapic: x2APIC mode" in out
        else:
            assert "lapic: xAPIC mode" in out
        assert re.search(r"lapic: timer .* TSC-deadline mode", out), out
        assert re.search(r"virt: VMX, IA32_FEATURE_CONTROL .* EPT yes, VPID yes, "
                         r"unrestricted guest yes", out), out
    finally:
        k.stop()
