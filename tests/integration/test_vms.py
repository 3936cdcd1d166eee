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


def test_lifecycle_from_the_console(keel):
    """autostart=no, then start, pause (no exits while paused), resume, reset
    (the guest starts over), stop and destroy, typed at Keel's console."""
    from keelvm import BUILD
    import os
    import time

    cfg = ("vm.life.kernel=/keel/guests/bench.elf\n"
           "vm.life.mem=64M\n"
           "vm.life.autostart=no\n")
    k = keel(boot="iso", smp=2, mem="512M", cfg=cfg,
             files={"/keel/guests/bench.elf": os.path.join(BUILD, "guests", "bench.elf")})
    k.wait_ready(timeout=120)

    def cmd(line, expect, timeout=30):
        mark = len(k.output())
        k.send(line + "\r")
        return k.wait_for(expect, timeout, start=mark)

    cmd("vms", r"^  life +created +cpus=1 mem_mib=64")
    cmd("vm life start", r"^keel: vm life started cpus=1 mem_mib=64")
    k.wait_for(r"^\[life\] bench: 100000 exits of each kind", 60)
    cmd("vm life pause", r"^keel: vm life pause: ok")
    time.sleep(0.5)
    a = int(cmd("vms", r"^  life +paused .* exits=(\d+)").group(1))
    time.sleep(1.5)
    b = int(cmd("vms", r"^  life +paused .* exits=(\d+)").group(1))
    assert a == b, "a paused VM kept running: %d -> %d exits" % (a, b)
    cmd("vm life resume", r"^keel: vm life resume: ok")
    time.sleep(0.5)
    c = int(cmd("vms", r"^  life +running .* exits=(\d+)").group(1))
    assert c > b
    mark = len(k.output())
    cmd("vm life reset", r"^keel: vm life reset: ok")
    k.wait_for(r"^\[life\] bench: 100000 exits of each kind", 60, start=mark)
    cmd("vm life stop", r"^keel: vm life stopped reason=poweroff by the console")
    cmd("vm life start", r"^keel: vm life start: busy")  # a stopped VM stays stopped
    cmd("vm life destroy", r"^keel: vm life destroy: ok")
    cmd("vms", r"^keel: no VMs")
    cmd("vm life pause", r"^keel: no VM named 'life'")
