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


def test_uefi_under_ovmf_in_bochs(tmp_path):
    """The one EFI file on a UEFI CD under OVMF in Bochs (ignore_bad_msrs):
    Keel locks IA32_FEATURE_CONTROL itself, finds VMX and runs a VM. OVMF in
    Bochs has no ACPI tables (they come from QEMU's fw_cfg): one CPU."""
    from keelvm import BUILD
    import os
    cfg = "vm.a.firmware=/keel/guests/checks.rom\nvm.a.mem=64M\n"
    k = BochsKeel(str(tmp_path), model="tigerlake", cpus=1, cfg=cfg, uefi=True,
                  files={"/keel/guests/checks.rom":
                         os.path.join(BUILD, "guests", "checks.rom")})
    k.start()
    try:
        r = k.wait_ready(timeout=240)
        assert r == {"cpus": 1, "mem_mib": r["mem_mib"], "virt": "vmx", "boot": "uefi"}
        m = k.wait_for(r"^keel: vm a stopped reason=(\S+) (.*)$", 240)
        assert m.group(1) == "exit" and m.group(2).startswith("status=0 "), m.group(0)
        out = k.output()
        assert "keel-loader: loaded /keel/guests/checks.rom" in out
        # OVMF leaves the MSR unlocked; VMXON works only once Keel locks it.
        assert "IA32_FEATURE_CONTROL 0x0 (unlocked, Keel will lock it)" in out, out
        assert "virt: vmx backend enabled on 1 cpu(s)" in out
    finally:
        k.stop()
