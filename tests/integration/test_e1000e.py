"""Keel's Intel 82574 driver (drivers/e1000e.c) on QEMU's -device e1000e: the
NIC is found on the PCI bus, reset, its MAC address read and its link
reported up, under SeaBIOS (the NIC untouched by firmware) and under OVMF
(whose own e1000e driver used it first)."""
import re

MAC = "52:54:00:12:34:57"
# A console line, printed raw or as a log record ("[    1.234567] ...").
BOL = r"^(?:\[[ \d.]+\] )?"
NET_LINE = BOL + r"net: e1000e0 %s link up$" % MAC


def e1000e_args(netdev_id="n0", romfile=True):
    rom = "" if romfile else ",romfile="
    return ["-netdev", "user,id=%s,restrict=on" % netdev_id,
            "-device", "e1000e,netdev=%s,mac=%s%s" % (netdev_id, MAC, rom)]


def assert_no_driver_errors(out):
    errors = [l for l in out.splitlines() if re.search(r"\be1000e: ", l)]
    assert not errors, errors


def test_e1000e_link_up_seabios(keel):
    k = keel(boot="iso", smp=2, mem="1G",
             extra_args=e1000e_args(romfile=False))
    k.wait_ready(timeout=120)
    k.wait_for(NET_LINE, 60)
    out = k.output()
    assert re.search(BOL + r"pci: \S+ 8086:10d3 class 02/00", out, re.M | re.I), out
    assert len(re.findall(BOL + r"net: e1000e\d", out, re.M)) == 1
    assert_no_driver_errors(out)


def test_e1000e_link_up_after_uefi(keel):
    # The USB boot already has a virtio-net NIC on n0; the e1000e gets its
    # own back end. OVMF loads the NIC's option ROM and may drive it: the
    # reset must bring it back from whatever state firmware left.
    k = keel(boot="usb", smp=2, mem="1G", extra_args=e1000e_args("n1"))
    k.wait_ready()
    k.wait_for(NET_LINE, 60)
    assert_no_driver_errors(k.output())


def test_two_e1000e_get_their_own_names(keel):
    args = ["-netdev", "user,id=n0,restrict=on",
            "-device", "e1000e,netdev=n0,mac=%s,romfile=" % MAC,
            "-netdev", "user,id=n1,restrict=on",
            "-device", "e1000e,netdev=n1,mac=52:54:00:12:34:58,romfile="]
    k = keel(boot="iso", smp=2, mem="1G", extra_args=args)
    k.wait_ready(timeout=120)
    k.wait_for(BOL + r"net: e1000e1 ", 60)
    out = k.output()
    names = dict(re.findall(BOL + r"net: (e1000e\d) (\S+) link up$", out, re.M))
    assert sorted(names.values()) == [MAC, "52:54:00:12:34:58"], out
    assert sorted(names) == ["e1000e0", "e1000e1"]
    assert_no_driver_errors(out)
