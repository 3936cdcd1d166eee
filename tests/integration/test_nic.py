"""The host's PCI bus and its virtio-net NIC: enumeration lines, the netdev
line, and a DHCP exchange with QEMU's slirp (selftest=net) over a
transitional device under OVMF, a modern-only one, INTx instead of MSI-X,
configuration mechanism #1 (no MCFG on the i440FX machine); no NIC at all
and a legacy-only NIC must not stop the boot."""
import re

MAC = "52:54:00:12:34:56"
NET_UP = r"net: virtio-net0 %s link up" % MAC
SELFTEST_OK = (r"^selftest net: ok \(virtio-net0 link up: DHCP DISCOVER sent, "
               r"rx (\d+) frames, offer yes after (\d+) ms, (\d+) interrupt wakes\)")


def nic(extra=""):
    return ["-netdev", "user,id=n0,restrict=on",
            "-device", "virtio-net-pci,netdev=n0,mac=%s,romfile=%s" % (MAC, extra)]


def check_selftest(k, tests=1):
    m = k.wait_for(r"^selftest net: .*\)$", 120)
    ok = re.match(SELFTEST_OK, m.group(0))
    assert ok, k.output()
    # A frame came back, and the receive interrupt woke the waiter.
    assert int(ok.group(1)) >= 1 and int(ok.group(3)) >= 1, m.group(0)
    if tests == 1:
        k.wait_for(r"^selftest: 1 passed, 0 failed", 30)


def test_nic_usb_transitional(keel):
    # The USB boot brings its own "-netdev user,id=n0,restrict=on -device
    # virtio-net-pci,netdev=n0": QEMU's default, transitional (0x1000)
    # with the modern interface, MAC 52:54:00:12:34:56, and MSI-X.
    k = keel(boot="usb", smp=2, mem="1G", cfg="selftest=net\n")
    k.wait_ready()
    k.wait_for(NET_UP, 60)
    out = k.output()
    assert re.search(r"pci: segment 0000 buses 00-ff ECAM at 0x[0-9a-f]+", out), out
    assert re.search(r"pci: 0000:00:[0-9a-f]{2}\.0 1af4:1000 class 02/00 virtio-net", out), out
    assert re.search(r"pci: 0000:00:00\.0 8086:29c0 class 06/00 host bridge", out), out
    assert re.search(r"virtio-net: \S+ virtio-net0: rx 256 tx 256 entries, MSI-X, 3 vector",
                     out), out
    check_selftest(k)


def test_nic_modern_only(keel):
    k = keel(boot="iso", smp=2, mem="1G", cmdline="selftest=net",
             extra_args=nic(",disable-legacy=on"))
    k.wait_ready(timeout=120)
    k.wait_for(NET_UP, 60)
    out = k.output()
    assert re.search(r"pci: 0000:00:[0-9a-f]{2}\.0 1af4:1041 class 02/00 virtio-net", out), out
    check_selftest(k)


def check_link_toggle(k):
    """selftest=netlink: pull the link with QMP; Keel sees it through the
    configuration-change interrupt."""
    m = k.wait_for(r"^selftest netlink: waiting for virtio-net0 to go down and up$", 120)
    assert "return" in k.qmp("set_link", name="n0", up=False)
    m = k.wait_for(r"net: virtio-net0 link down", 30, m.end())
    assert "return" in k.qmp("set_link", name="n0", up=True)
    m = k.wait_for(r"net: virtio-net0 link up", 30, m.end())
    k.wait_for(r"^selftest netlink: ok \(virtio-net0: 1 down, 1 up\)", 30, m.end())


def test_nic_intx(keel):
    # vectors=0: no MSI-X capability; the interrupt is INTx through the
    # I/O APIC at the line SeaBIOS wrote, acknowledged by the ISR register.
    k = keel(boot="iso", smp=2, mem="1G", cmdline="selftest=net,netlink",
             extra_args=nic(",vectors=0"))
    k.wait_ready(timeout=120)
    k.wait_for(NET_UP, 60)
    out = k.output()
    assert re.search(r"pci: \S+ INTx, 1 vector\(s\)", out), out
    assert re.search(r"ioapic: gsi 1[01] -> vector 0x[0-9a-f]+ on APIC 0 \(level, ", out), out
    check_selftest(k, 2)
    check_link_toggle(k)


def test_nic_link_change_msix(keel):
    k = keel(boot="iso", smp=2, mem="1G", cmdline="selftest=netlink",
             extra_args=nic())
    k.wait_ready(timeout=120)
    k.wait_for(NET_UP, 60)
    check_link_toggle(k)


def test_nic_mechanism1(keel):
    # The i440FX machine has no MCFG table: 0xCF8/0xCFC.
    k = keel(boot="iso", smp=2, mem="1G", machine="pc", cmdline="selftest=net",
             extra_args=nic())
    k.wait_ready(timeout=120)
    k.wait_for(NET_UP, 60)
    out = k.output()
    assert "pci: no MCFG table, configuration mechanism #1" in out, out
    assert re.search(r"pci: 0000:00:01\.0 8086:7000 class 06/01 ISA bridge", out), out
    check_selftest(k)


def test_no_nic(keel):
    # -nic none: without it QEMU adds its default NIC (e1000e on q35).
    k = keel(boot="iso", smp=2, mem="512M", cmdline="selftest=net",
             extra_args=["-nic", "none"])
    k.wait_ready(timeout=120)
    k.wait_for(r"net: no network device found; carrying on without one", 60)
    k.wait_for(r"^selftest net: FAILED \(no network device\)", 60)
    assert "virtio-net0" not in k.output()


def test_legacy_only_nic_is_skipped(keel):
    # disable-modern=on: only the legacy I/O interface, which Keel does not
    # drive. Logged with its address, skipped, and Keel boots on.
    k = keel(boot="iso", smp=2, mem="512M", extra_args=nic(",disable-modern=on"))
    k.wait_ready(timeout=120)
    k.wait_for(r"net: no network device found", 60)
    out = k.output()
    assert re.search(r"virtio-net: 0000:00:[0-9a-f]{2}\.0 has no modern virtio interface",
                     out), out
    assert re.search(r"pci: 0000:00:[0-9a-f]{2}\.0: driver virtio-net: \S.*, device skipped",
                     out), out
