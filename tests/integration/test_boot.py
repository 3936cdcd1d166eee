"""Boot Keel the ways an admin does (USB stick under UEFI, PXE, GRUB ISO under
a legacy BIOS) and check what it reports: the ready line's figures, the
configuration's error messages, the virtualization it found, power-off."""
import re

import pytest

SVM_CPU = "qemu64,+svm,+npt"


def mem_ok(mem_mib, configured_mib):
    # Firmware keeps some RAM (OVMF more than SeaBIOS), Keel keeps the kernel
    # image and the first MiB; everything else must be counted.
    return configured_mib * 0.85 <= mem_mib <= configured_mib


@pytest.mark.parametrize("smp,mem,mib", [(1, "512M", 512), (2, "3G", 3072),
                                         (4, "512M", 512)])
def test_usb_boot_ready_line(keel, smp, mem, mib):
    # virtio-rng gives OVMF an EFI_RNG_PROTOCOL, whose bytes seed Keel.
    k = keel(boot="usb", smp=smp, mem=mem,
             extra_args=["-device", "virtio-rng-pci"])
    r = k.wait_ready()
    assert r["cpus"] == smp
    assert mem_ok(r["mem_mib"], mib), r
    assert r["virt"] == "svm"
    assert r["boot"] == "uefi"
    out = k.output()
    assert len(re.findall(r"^keel: ready ", out, re.M)) == 1
    # The loader reports what the firmware gave it, the kernel what it parsed.
    assert "keel-loader:" in out
    assert re.search(r"acpi: rev \d+", out)
    assert re.search(r"time: TSC \d+\.\d+ MHz", out)
    assert re.search(r"virt: SVM rev \d+, \d+ ASIDs, NPT yes", out)
    assert re.search(r"keel: boot device \S*USB\S*; 64 bytes of firmware entropy; "
                     r"ACPI RSDP 0x[0-9a-f]+, SMBIOS [23] 0x[0-9a-f]+", out, re.I), out
    # Boot-services memory went back to the allocator.
    assert re.search(r"mm: \d+ MiB usable, [1-9]\d* MiB reclaimed from firmware", out), out


def test_pxe_boot(keel):
    cfg = "# served by TFTP\nloglevel=debug\nselftest=xcall\n"
    k = keel(boot="pxe", smp=2, mem="1G", cfg=cfg)
    r = k.wait_ready()
    assert r["cpus"] == 2 and r["boot"] == "uefi" and r["virt"] == "svm"
    assert mem_ok(r["mem_mib"], 1024)
    # keel.cfg came over TFTP: its selftest key ran.
    k.wait_for(r"^selftest xcall: ok", 120)


def test_iso_multiboot2_seabios(keel):
    k = keel(boot="iso", smp=2, mem="1G")
    r = k.wait_ready(timeout=120)
    assert r == {**r, "cpus": 2, "virt": "svm", "boot": "multiboot2"}
    assert mem_ok(r["mem_mib"], 1024)


def test_bad_config_boots_with_clear_messages(keel):
    cfg = ("consol=serial\n"           # unknown key
           "cpus=lots\n"               # bad number
           "mem_reserve=12Q\n"         # bad size
           "module=\\keel\\nothere.bin\n"  # missing module
           "module=\\keel\\here.bin some args\n")
    k = keel(boot="usb", smp=2, mem="1G", cfg=cfg,
             files={"\\keel\\here.bin": b"x" * 12345})
    r = k.wait_ready()
    assert r["cpus"] == 2  # cpus=lots fell back to the default: all
    out = k.output()
    assert re.search(r"keel\.cfg:1: unknown key 'consol'", out), out
    assert re.search(r"keel\.cfg:2: cpus: 'lots' is not a number", out), out
    assert re.search(r"keel\.cfg:3: mem_reserve: ", out), out
    assert re.search(r"nothere\.bin: not found", out), out
    assert re.search(r"keel: module \\keel\\here\.bin 12345 bytes args some args", out), out


def test_cpus_limit_from_load_options(keel):
    """The ISO's command line plays the part of the UEFI load options."""
    k = keel(boot="iso", smp=4, mem="512M", cfg="cpus=3\n", cmdline="cpus=2")
    r = k.wait_ready(timeout=120)
    assert r["cpus"] == 2
    assert "smp: 2 cpu(s) left offline (cpus=2)" in k.output()


def test_poweroff_from_console(keel):
    k = keel(boot="iso", smp=2, mem="512M")
    k.wait_ready(timeout=120)
    k.send("poweroff\r")
    k.wait_for(r"^keel: powering off", 30)
    assert k.wait_exit(30) == 0


def test_power_button(keel):
    k = keel(boot="usb", smp=2, mem="512M")
    k.wait_ready()
    k.qmp("system_powerdown")
    k.wait_for(r"^keel: power button pressed", 30)
    assert k.wait_exit(30) == 0


def test_reboot_from_console(keel):
    k = keel(boot="iso", smp=1, mem="512M")
    k.wait_ready(timeout=120)
    k.send("reboot\r")
    k.wait_for(r"^keel: rebooting", 30)
    # -no-reboot turns the reset into QEMU's exit.
    assert k.wait_exit(30) == 0


def test_no_virtualization(keel):
    k = keel(boot="iso", smp=1, mem="512M", cpu="qemu64")
    r = k.wait_ready(timeout=120)
    assert r["virt"] == "none"
    assert "no usable hardware virtualization" in k.output()


def test_pm_timer_calibration_without_hpet(keel):
    k = keel(boot="iso", smp=1, mem="512M", machine="q35,hpet=off")
    k.wait_ready(timeout=120)
    assert re.search(r"time: TSC \d+\.\d+ MHz \(calibrated against ACPI PM timer",
                     k.output()), k.output()


def test_selftests_on_four_cpus(keel):
    k = keel(boot="iso", smp=4, mem="1G", cmdline="selftest=all")
    k.wait_ready(timeout=120)
    m = k.wait_for(r"^selftest: (\d+) passed, (\d+) failed", 180)
    out = k.output()
    assert m.group(2) == "0", out
    for name in ("sleep", "threads", "preempt", "spinlock", "xcall", "heap", "pmm"):
        assert re.search(r"^selftest %s: ok" % name, out, re.M), name


def test_exception_report_stops_all_cpus(keel):
    k = keel(boot="iso", smp=4, mem="512M", cmdline="selftest=fault")
    k.wait_ready(timeout=120)
    k.wait_for(r"KEEL PANIC on cpu 3: exception #PF page fault", 60)
    k.wait_for(r"keel: system halted", 30)
    out = k.output()
    assert re.search(r"RIP [0-9a-f]{16} <fault_body\+0x[0-9a-f]+>", out), out
    assert re.search(r"CR2 0000000000000000", out)
    assert re.search(r"Backtrace:\n  [0-9a-f]{16} fault_body\+", out), out
    assert "sched_thread_entry" in out  # the caller, by name
    # The other CPUs are stopped too: the console shell on cpu 0 is silent.
    mark = len(out)
    k.send("status\r")
    with pytest.raises(AssertionError):
        k.wait_for(r"keel: up \d+s", 5, start=mark)


def test_stack_overflow_hits_guard_page(keel):
    k = keel(boot="iso", smp=2, mem="512M", cmdline="selftest=stack")
    k.wait_ready(timeout=120)
    k.wait_for(r"KEEL PANIC on cpu 1: exception (#PF page fault|#DF double fault)", 60)
    k.wait_for(r"keel: system halted", 30)
    out = k.output()
    assert "kernel stack overflow" in out, out
    assert re.search(r"recurse[.\w]*\+0x", out), out


def fb_text_pixels(k):
    """Pixels of Keel's framebuffer text colour (0xAAAAAA) in a screendump."""
    path = k.tmp + "/screen.ppm"
    k.qmp("screendump", filename=path)
    with open(path, "rb") as f:
        data = f.read()
    # P6 header: magic, width, height, maxval, each followed by white space.
    fields, pos = [], 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    pixels = data[pos + 1:]
    return sum(1 for i in range(0, len(pixels) - 2, 3)
               if pixels[i] == pixels[i + 1] == pixels[i + 2] == 0xAA)


def test_framebuffer_console(keel):
    k = keel(boot="usb", smp=1, mem="512M")
    k.wait_ready()
    # The log is drawn on the GOP framebuffer: thousands of glyph pixels.
    assert fb_text_pixels(k) > 5000
    assert "fbcon: 1280x800" in k.output() or "fbcon: " in k.output()


def test_framebuffer_console_off(keel):
    k = keel(boot="usb", smp=1, mem="512M", cfg="console=serial\n")
    k.wait_ready()
    assert fb_text_pixels(k) < 500  # the firmware's screen, not Keel's log


def test_kernel_override_on_the_boot_volume(keel):
    """\\keel\\kernel.elf replaces the embedded kernel; a broken one is refused
    with the reason, and the embedded kernel boots instead."""
    import os
    from keelvm import BUILD
    with open(os.path.join(BUILD, "kernel.elf"), "rb") as f:
        good = f.read()
    k = keel(boot="usb", smp=1, mem="512M", files={"\\keel\\kernel.elf": good})
    k.wait_ready()
    assert re.search(r"keel-loader: using \\keel\\kernel\.elf from the", k.output()), k.output()

    bad = good[:4096]  # truncated: program headers point past the end
    k2 = keel(boot="usb", smp=1, mem="512M", files={"\\keel\\kernel.elf": bad})
    k2.wait_ready()
    assert re.search(r"keel-loader: \\keel\\kernel\.elf: .*, using the embedded kernel",
                     k2.output()), k2.output()
