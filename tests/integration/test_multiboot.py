"""test_multiboot.py - Multiboot (v1) kernels as Keel guests (QEMU TCG, SVM
with NPT, GRUB ISO for speed): tests/guests/mbtest, built from source,
checks its boot information (magic, register state, flags, memory map and
sizes, command line, modules and their strings, APs held until SIPI) and
reports through the debug-exit device, which stops the VM with
reason=exit status=<failures>.

- The ELF form and the a.out-kludge form, with 1 and 2 vCPUs, each with two
  modules carrying arguments.
- A malformed Multiboot kernel (bad checksum) is refused with a reason while
  the other VM of the same boot runs.
"""
import os
import re
import struct

import pytest

from keelvm import BUILD

GUESTS = os.path.join(BUILD, "guests")
VM_TIMEOUT = float(os.environ.get("KEEL_VM_TIMEOUT", "400"))
MB_MAGIC = 0x1BADB002


def mod_text(n, path, args):
    s = path + (" " + args if args else "")
    return ("KEELMOD%d %s\n" % (n, s)).encode()


def mb_vm(name, image, cpus, mem_mib=64):
    """keel.cfg lines and files for one mbtest VM."""
    mods = [("/keel/guests/%s-mod1.txt" % name, "arg1 arg2"),
            ("/keel/guests/%s-mod2.txt" % name, "")]
    cmdline = "mbtest mem=%dM expect_mods=%d debug_exit=0xf4" % (mem_mib,
                                                                 len(mods))
    lines = ["vm.%s.kernel=/keel/guests/%s" % (name, image),
             'vm.%s.cmdline="%s"' % (name, cmdline),
             "vm.%s.cpus=%d" % (name, cpus),
             "vm.%s.mem=%dM" % (name, mem_mib),
             "vm.%s.debug_exit=0xf4" % name]
    files = {"/keel/guests/%s" % image: os.path.join(GUESTS, image)}
    for n, (path, args) in enumerate(mods, 1):
        lines.append("vm.%s.module=%s%s" % (name, path,
                                            " " + args if args else ""))
        files[path] = mod_text(n, path, args)
    return lines, files, cmdline


def stop_line(k, name):
    m = k.wait_for(r"^keel: vm %s stopped reason=(\S+)(?: (.*))?$"
                   % re.escape(name), VM_TIMEOUT)
    return m.group(1), m.group(2) or ""


def vm_lines(out, name):
    prefix = "[%s] " % name
    return [l[len(prefix):] for l in out.splitlines() if l.startswith(prefix)]


@pytest.fixture(scope="module")
def mb_boot(tmp_path_factory, request):
    images = ["mbtest.elf", "mbtest-aout.elf"]
    for img in images:
        if not os.path.isfile(os.path.join(GUESTS, img)):
            pytest.fail("build/guests/%s is not built (make all)" % img)
    from keelvm import QemuKeel
    cfg, files, cmdlines = [], {}, {}
    for img in images:
        for cpus in (1, 2):
            name = "%s%d" % ("elf" if img == "mbtest.elf" else "aout", cpus)
            l, f, c = mb_vm(name, img, cpus)
            cfg += l
            files.update(f)
            cmdlines[name] = c
    # A kernel whose Multiboot header checksum is wrong: refused.
    bad = bytearray(open(os.path.join(GUESTS, "mbtest.elf"), "rb").read())
    for off in range(0, min(len(bad), 8192) - 12, 4):
        if struct.unpack_from("<I", bad, off)[0] == MB_MAGIC:
            struct.pack_into("<I", bad, off + 8,
                             (struct.unpack_from("<I", bad, off + 8)[0] + 1)
                             & 0xFFFFFFFF)
            break
    else:
        pytest.fail("mbtest.elf has no Multiboot header in its first 8 KiB")
    files["/keel/guests/mbbad.elf"] = bytes(bad)
    cfg += ["vm.bad.kernel=/keel/guests/mbbad.elf", "vm.bad.mem=16M"]
    tmp = tmp_path_factory.mktemp("mb")
    k = QemuKeel(tmp, boot="iso", smp=4, mem="2G", cfg="\n".join(cfg) + "\n",
                 files=files)
    k.start()
    request.addfinalizer(k.stop)
    k.wait_ready(timeout=180)
    return k, cmdlines


@pytest.mark.parametrize("name", ["elf1", "elf2", "aout1", "aout2"])
def test_mbtest(mb_boot, name):
    k, cmdlines = mb_boot
    reason, detail = stop_line(k, name)
    lines = vm_lines(k.output(), name)
    fails = [l for l in lines if " FAIL " in l]
    assert reason == "exit" and detail == "status=0" and not fails, \
        "vm %s: %s %s\n%s" % (name, reason, detail, "\n".join(lines))
    text = "\n".join(lines)
    # What the guest saw, in its own words: the checks that matter.
    assert 'mbtest: cmdline ok "%s"' % cmdlines[name] in text, text
    assert "mbtest: modules ok 2" in text, text
    assert re.search(r'mbtest: module1 ok .*string="/keel/guests/%s-mod1.txt '
                     r'arg1 arg2"' % name, text), text
    assert "mbtest: done failures=0" in text, text


def test_bad_multiboot_refused(mb_boot):
    k, _ = mb_boot
    m = k.wait_for(r"vm bad: .*Multiboot.*", 60)
    assert "no valid checksum" in m.group(0), m.group(0)
    stop_line(k, "elf1")  # the others ran meanwhile
    assert "keel: vm bad started" not in k.output()
