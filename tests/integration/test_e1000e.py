"""Keel's Intel 82574 driver (drivers/e1000e.c) on QEMU's -device e1000e: the
NIC is found on the PCI bus, reset, its MAC address read and its link
reported up, under SeaBIOS (the NIC untouched by firmware) and under OVMF
(whose own e1000e driver may have used it first); a DHCP exchange with
QEMU's slirp (selftest=net), the link pulled down and up (LSC interrupt),
and two NICs named in order."""
import re

MAC = "52:54:00:12:34:57"
# A console line, printed raw or as a log record ("[    1.234567] ...").
BOL = r"^(?:\[[ \d.]+\] )?"
NET_UP = BOL + r"net: e1000e0 %s link up$" % MAC
SELFTEST_OK = (r"^selftest net: ok \(e1000e0 link up: DHCP DISCOVER sent, "
               r"rx (\d+) frames, offer yes after (\d+) ms, (\d+) interrupt wakes\)")


def e1000e_args(netdev_id="n0", mac=MAC, romfile=False):
    # romfile= keeps SeaBIOS from loading the NIC's iPXE ROM: a faster boot.
    rom = "" if romfile else ",romfile="
    return ["-netdev", "user,id=%s,restrict=on" % netdev_id,
            "-device", "e1000e,netdev=%s,mac=%s%s" % (netdev_id, mac, rom)]


def assert_no_driver_errors(out):
    errors = [l for l in out.splitlines()
              if re.search(r"(ERROR|WARN) e1000e|driver e1000e: ", l)]
    assert not errors, errors


def test_e1000e_dhcp_seabios(keel):
    k = keel(boot="iso", smp=2, mem="1G", cmdline="selftest=net",
             extra_args=e1000e_args())
    k.wait_ready(timeout=120)
    k.wait_for(NET_UP, 60)
    out = k.output()
    assert re.search(BOL + r"pci: 0000:00:[0-9a-f]{2}\.0 8086:10d3 class 02/00",
                     out, re.M), out
    # QEMU's 82574 has MSI-X: rx, tx and other causes on their own vectors.
    assert re.search(BOL + r"e1000e: 0000:00:[0-9a-f]{2}\.0 e1000e0: rx 256 tx 256 "
                     r"descriptors, MSI-X, 3 vector\(s\)$", out, re.M), out
    m = k.wait_for(r"^selftest net: .*\)$", 120)
    ok = re.match(SELFTEST_OK, m.group(0))
    assert ok, k.output()
    # A frame came back, and the receive interrupt woke the waiter.
    assert int(ok.group(1)) >= 1 and int(ok.group(3)) >= 1, m.group(0)
    k.wait_for(r"^selftest: 1 passed, 0 failed", 30)
    assert_no_driver_errors(k.output())


def test_e1000e_link_change(keel):
    # QMP set_link: the model clears STATUS.LU and raises LSC, and when the
    # link returns, LSC again after its auto-negotiation delay; both reach
    # Keel through the "other" MSI-X vector.
    k = keel(boot="iso", smp=2, mem="1G", cmdline="selftest=netlink",
             extra_args=e1000e_args())
    k.wait_ready(timeout=120)
    k.wait_for(NET_UP, 60)
    m = k.wait_for(r"^selftest netlink: waiting for e1000e0 to go down and up$", 120)
    assert "return" in k.qmp("set_link", name="n0", up=False)
    m = k.wait_for(BOL + r"net: e1000e0 link down$", 30, m.end())
    assert "return" in k.qmp("set_link", name="n0", up=True)
    m = k.wait_for(BOL + r"net: e1000e0 link up$", 30, m.end())
    k.wait_for(r"^selftest netlink: ok \(e1000e0: 1 down, 1 up\)", 30, m.end())
    assert_no_driver_errors(k.output())


def test_e1000e_after_uefi(keel):
    # The USB boot already has a virtio-net NIC on n0; the e1000e gets its
    # own back end, and keeps its option ROM: OVMF loads its UEFI driver.
    # The reset must bring the NIC back from whatever firmware left.
    k = keel(boot="usb", smp=2, mem="1G",
             extra_args=e1000e_args("n1", romfile=True))
    k.wait_ready()
    k.wait_for(NET_UP, 60)
    assert_no_driver_errors(k.output())


def test_two_e1000e_get_their_own_names(keel):
    second = "52:54:00:12:34:58"
    k = keel(boot="iso", smp=2, mem="1G",
             extra_args=e1000e_args() + e1000e_args("n1", second))
    k.wait_ready(timeout=120)
    k.wait_for(BOL + r"net: e1000e1 ", 60)
    out = k.output()
    names = dict(re.findall(BOL + r"net: (e1000e\d) (\S+) link up$", out, re.M))
    assert names == {"e1000e0": MAC, "e1000e1": second}, out
    assert_no_driver_errors(out)
