"""The management server's TLS (mgmt/tls.c, mgmt/mgmt.c): Keel boots in QEMU
with a virtio-net NIC on user networking (restrict=on, port 443 forwarded to
127.0.0.1), prints "keel: mgmt https://<address>/ sha256=<fingerprint>", and
Python's ssl module checks what a client sees: TLS 1.3 and TLS 1.2 with the
AEAD suites work and present the printed certificate, TLS 1.1 and TLS 1.2
without an AEAD suite are refused, the connection limit and the handshake
timeout hold, and a static ip= works on the Multiboot2 path too."""
import hashlib
import os
import re
import socket
import ssl
import struct
import subprocess
import sys
import time
import warnings

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from keelvm import QemuKeel  # noqa: E402

MGMT_RE = r"^keel: mgmt https://([0-9.]+)/ sha256=([0-9a-f]{64})$"
CONN_MAX = 16            # mgmt.c MGMT_CONN_MAX
HANDSHAKE_TIMEOUT = 10   # mgmt.c MGMT_HANDSHAKE_NS
HTTP_BODY_TIMEOUT = 30   # http.h HTTP_BODY_TIMEOUT_NS
# A request whose 2-byte body is sent later.
LOGIN_HEAD = (b"POST /api/v1/session HTTP/1.1\r\nHost: keel\r\n"
              b"Content-Type: application/json\r\nContent-Length: 2\r\n\r\n")
# TCG runs P-256 and X25519 in software on an emulated CPU: seconds, not ms.
IO_TIMEOUT = 60


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class MgmtKeel(QemuKeel):
    """A boot whose NIC forwards 127.0.0.1:port to the guest's port 443."""

    def __init__(self, tmp, port, guest_ip="", **kw):
        self.port = port
        self.fwd = "hostfwd=tcp:127.0.0.1:%d-%s:443" % (port, guest_ip)
        super().__init__(tmp, **kw)

    def command(self):
        cmd, ser, qmp = super().command()
        if self.boot in ("usb", "pxe"):
            # keelvm gives these boots a virtio-net NIC already.
            cmd = [a + "," + self.fwd if a.startswith("user,id=n0,restrict=on")
                   else a for a in cmd]
        else:
            cmd += ["-netdev", "user,id=n0,restrict=on," + self.fwd,
                    "-device", "virtio-net-pci,netdev=n0,romfile="]
        return cmd, ser, qmp


def client_ctx(min_ver=None, max_ver=None, ciphers=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # pinned by fingerprint instead
    if min_ver:
        ctx.minimum_version = min_ver
    if max_ver:
        ctx.maximum_version = max_ver
    if ciphers:
        ctx.set_ciphers(ciphers)
    return ctx


def handshake(port, ctx):
    """A full handshake; returns (version, cipher, DER certificate, seconds),
    the socket closed again with close_notify."""
    with socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT) as s:
        t0 = time.monotonic()
        with ctx.wrap_socket(s) as t:
            dt = time.monotonic() - t0
            out = (t.version(), t.cipher()[0], t.getpeercert(binary_form=True), dt)
            t.unwrap()
    return out


@pytest.fixture(scope="module")
def mgmt(tmp_path_factory):
    """One UEFI boot for the module: OVMF gets virtio-rng and the CPU has
    RDRAND, so Keel's entropy has the firmware's seed and RDRAND besides the
    TSC jitter it always samples."""
    k = MgmtKeel(tmp_path_factory.mktemp("tls"), free_port(), boot="usb",
                 smp=2, mem="1G", cpu="qemu64,+svm,+npt,+rdrand",
                 extra_args=["-device", "virtio-rng-pci"])
    os.makedirs(k.tmp, exist_ok=True)
    k.start()
    try:
        m = k.wait_for(MGMT_RE)
        k.address, k.fingerprint = m.group(1), m.group(2)
        yield k
    finally:
        k.stop()


def test_mgmt_line_and_entropy(mgmt):
    out = mgmt.output()
    # DHCP from QEMU's user network; printed once while it does not change.
    assert mgmt.address == "10.0.2.15"
    assert len(re.findall(MGMT_RE, out, re.M)) == 1
    # The seed and the sources are logged; 64 bytes from virtio-rng.
    assert re.search(r"entropy: seeded: firmware seed 512 bits, RDSEED no "
                     r"\(0 words\), RDRAND yes \(64 words\), TSC jitter "
                     r"\d+\.\d\d bits/sample \(1 x 1024 samples\)", out), out
    assert re.search(r"tls: self-signed certificate \(\d+ bytes DER\), sha256 "
                     + mgmt.fingerprint, out), out


def test_tls13_certificate_matches_fingerprint(mgmt):
    ver, cipher, der, dt = handshake(mgmt.port,
                                     client_ctx(min_ver=ssl.TLSVersion.TLSv1_3))
    print("TLS 1.3 handshake %.3f s (%s)" % (dt, cipher))
    assert ver == "TLSv1.3"
    assert cipher in ("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                      "TLS_CHACHA20_POLY1305_SHA256")
    assert hashlib.sha256(der).hexdigest() == mgmt.fingerprint
    # The certificate made at boot: P-256, CN=keel, self-signed.
    pem = ssl.DER_cert_to_PEM_cert(der)
    ctx = client_ctx()
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(cadata=pem)  # pinned: it verifies against itself
    ver2, _, der2, _ = handshake(mgmt.port, ctx)
    assert der2 == der and ver2 == "TLSv1.3"


@pytest.mark.parametrize("suite", ["TLS_AES_128_GCM_SHA256",
                                   "TLS_AES_256_GCM_SHA384",
                                   "TLS_CHACHA20_POLY1305_SHA256"])
def test_tls13_each_aead_suite(mgmt, suite):
    # Python's ssl cannot restrict TLS 1.3 suites; openssl s_client can.
    r = subprocess.run(["openssl", "s_client", "-connect",
                        "127.0.0.1:%d" % mgmt.port, "-brief", "-tls1_3",
                        "-ciphersuites", suite],
                       input=b"", capture_output=True, timeout=IO_TIMEOUT)
    out = (r.stdout + r.stderr).decode(errors="replace")
    assert re.search(r"^Protocol version: TLSv1\.3$", out, re.M), out
    assert re.search(r"^Ciphersuite: %s$" % suite, out, re.M), out


@pytest.mark.parametrize("suite", ["ECDHE-ECDSA-AES128-GCM-SHA256",
                                   "ECDHE-ECDSA-AES256-GCM-SHA384",
                                   "ECDHE-ECDSA-CHACHA20-POLY1305"])
def test_tls12_aead_suites(mgmt, suite):
    ctx = client_ctx(max_ver=ssl.TLSVersion.TLSv1_2, ciphers=suite)
    ver, cipher, der, dt = handshake(mgmt.port, ctx)
    print("TLS 1.2 %s handshake %.3f s" % (suite, dt))
    assert (ver, cipher) == ("TLSv1.2", suite)
    assert hashlib.sha256(der).hexdigest() == mgmt.fingerprint


@pytest.mark.parametrize("suite", ["ECDHE-ECDSA-AES128-SHA256",
                                   "ECDHE-ECDSA-AES128-SHA",
                                   "ECDHE-ECDSA-AES256-SHA384"])
def test_tls12_non_aead_refused(mgmt, suite):
    ctx = client_ctx(max_ver=ssl.TLSVersion.TLSv1_2, ciphers=suite)
    with pytest.raises(ssl.SSLError, match="HANDSHAKE_FAILURE|handshake failure"):
        handshake(mgmt.port, ctx)


def client_hello(version, suites):
    """A TLS 1.0-1.2 style ClientHello record (RFC 5246 7.4.1.2) offering
    suites, with the extensions an ECDHE-ECDSA server needs (RFC 8422)."""
    exts = b""
    # supported_groups: secp256r1, x25519
    exts += struct.pack(">HHH", 10, 6, 4) + struct.pack(">HH", 23, 29)
    # ec_point_formats: uncompressed
    exts += struct.pack(">HHB", 11, 2, 1) + b"\x00"
    # signature_algorithms: ecdsa_secp256r1_sha256 (ignored before TLS 1.2)
    exts += struct.pack(">HHH", 13, 4, 2) + struct.pack(">H", 0x0403)
    body = struct.pack(">H", version) + os.urandom(32) + b"\x00"
    body += struct.pack(">H", 2 * len(suites)) + b"".join(
        struct.pack(">H", s) for s in suites)
    body += b"\x01\x00" + struct.pack(">H", len(exts)) + exts
    hs = b"\x01" + struct.pack(">I", len(body))[1:] + body
    return b"\x16" + struct.pack(">HH", 0x0301, len(hs)) + hs


def first_record(port, data):
    """Send data, return (content type, first bytes of the fragment) of the
    server's first record, or None when it closed without one."""
    with socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT) as s:
        s.sendall(data)
        buf = b""
        try:
            while len(buf) < 7:
                chunk = s.recv(4096)
                if not chunk:
                    break
                buf += chunk
        except ConnectionResetError:
            pass
    return (buf[0], buf[5:7]) if len(buf) >= 7 else None


def test_tls11_refused(mgmt):
    # A client that speaks at most TLS 1.1 (0x0302) offering an AEAD suite
    # and a CBC one: the version alone is refused, with a fatal
    # protocol_version alert (RFC 5246 7.2.2: level 2, description 70).
    rec = first_record(mgmt.port, client_hello(0x0302, [0xC02B, 0xC009]))
    assert rec == (21, b"\x02\x46"), rec
    # OpenSSL limited to TLS 1.1 fails too (at SECLEVEL 0 it does offer 1.1).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx = client_ctx(min_ver=ssl.TLSVersion.TLSv1_1,
                         max_ver=ssl.TLSVersion.TLSv1_1,
                         ciphers="ALL:@SECLEVEL=0")
    with pytest.raises(ssl.SSLError):
        handshake(mgmt.port, ctx)
    # The same hello as TLS 1.2 is answered with a ServerHello: the refusal
    # above was the version's.
    rec = first_record(mgmt.port, client_hello(0x0303, [0xC02B, 0xC009]))
    assert rec is not None and rec[0] == 22 and rec[1][0] == 2, rec


def test_connection_limit_handshake_timeout_no_leak(mgmt):
    start = len(mgmt.output())
    conns = []
    try:
        # CONN_MAX TLS connections at once, each with a finished handshake.
        # An open connection with no request is dropped after 10 s
        # (HTTP_HEADER_TIMEOUT_NS), and 16 handshakes on an emulated CPU can
        # take longer than that: each one starts a request whose body is
        # still to come, which holds it for 30 s (HTTP_BODY_TIMEOUT_NS).
        t0 = time.monotonic()
        for _ in range(CONN_MAX):
            s = socket.create_connection(("127.0.0.1", mgmt.port),
                                         timeout=IO_TIMEOUT)
            t = client_ctx().wrap_socket(s)
            t.sendall(LOGIN_HEAD)
            conns.append(t)
        took = time.monotonic() - t0
        assert took < HTTP_BODY_TIMEOUT - 5, \
            "%d handshakes took %.1f s: the first ones may have timed out" % (
                CONN_MAX, took)
        # One more is refused: QEMU's forwarder accepts, Keel resets, so
        # the client sees its connection end before any TLS byte.
        with socket.create_connection(("127.0.0.1", mgmt.port),
                                      timeout=IO_TIMEOUT) as s:
            s.sendall(client_hello(0x0303, [0xC02B]))
            try:
                assert s.recv(4096) == b""
            except ConnectionResetError:
                pass
        mgmt.wait_for(r"mgmt: %d connections open, refusing one more" % CONN_MAX,
                      timeout=IO_TIMEOUT, start=start)
        # Every open one still works: the body ends the request, which is
        # refused for want of a password (no login is tried, so no rate
        # limit is touched).
        for t in conns:
            t.sendall(b"{}")
            assert t.recv(12) == b"HTTP/1.1 400"
    finally:
        for t in conns:
            t.close()
    # A client that never says hello is dropped after the handshake timeout.
    with socket.create_connection(("127.0.0.1", mgmt.port), timeout=IO_TIMEOUT) as s:
        t0 = time.monotonic()
        try:
            assert s.recv(1) == b""
        except ConnectionResetError:
            pass
        waited = time.monotonic() - t0
    assert HANDSHAKE_TIMEOUT - 1 <= waited <= HANDSHAKE_TIMEOUT + 20, waited
    mgmt.wait_for(r"mgmt: 10\.0\.2\.2: TLS handshake timed out",
                  timeout=IO_TIMEOUT, start=start)
    # All of them closed, mbedTLS's heap is back where it was (mgmt.c warns
    # otherwise), and the server still answers.
    handshake(mgmt.port, client_ctx())
    time.sleep(2)
    assert "with no connection open" not in mgmt.output()[start:]


def make_identity(tmp, name, curve="prime256v1"):
    """An EC key and a self-signed certificate for it, as PEM text, made by
    openssl; and the certificate's DER SHA-256."""
    key, crt = os.path.join(tmp, name + ".key"), os.path.join(tmp, name + ".crt")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                    "-pkeyopt", "ec_paramgen_curve:" + curve, "-nodes",
                    "-keyout", key, "-out", crt, "-subj", "/CN=" + name,
                    "-days", "30"], check=True, capture_output=True)
    der = subprocess.run(["openssl", "x509", "-in", crt, "-outform", "DER"],
                         check=True, capture_output=True).stdout
    with open(key) as f, open(crt) as g:
        return f.read(), g.read(), hashlib.sha256(der).hexdigest()


def test_configured_certificate(tmp_path):
    # tls_cert= and tls_key= name PEM files on the boot volume; the loader
    # brings them like any file keel.cfg names. Paths with either separator.
    key, crt, fp = make_identity(str(tmp_path), "mgmt.example", "secp384r1")
    cfg = "tls_cert=\\keel\\tls.crt\ntls_key=/keel/tls.key\n"
    k = MgmtKeel(tmp_path / "run", free_port(), boot="usb", smp=2, mem="1G",
                 cfg=cfg, files={"\\keel\\tls.crt": crt,
                                 "\\keel\\tls.key": key})
    os.makedirs(k.tmp, exist_ok=True)
    k.start()
    try:
        m = k.wait_for(MGMT_RE)
        assert m.group(2) == fp
        assert re.search(r"tls: \\keel\\tls\.crt certificate \(\d+ bytes DER\), "
                         r"sha256 " + fp, k.output()), k.output()
        for ctx in (client_ctx(min_ver=ssl.TLSVersion.TLSv1_3),
                    client_ctx(max_ver=ssl.TLSVersion.TLSv1_2,
                               ciphers="ECDHE-ECDSA-AES256-GCM-SHA384")):
            _, _, der, _ = handshake(k.port, ctx)
            assert hashlib.sha256(der).hexdigest() == fp
    finally:
        k.stop()


def test_static_ip_multiboot2(tmp_path):
    # GRUB ISO under SeaBIOS: no firmware seed, so TSC jitter alone seeds
    # the generator; ip= other than the DHCP address proves it is used.
    # The TLS files do not belong together: Keel says so and makes its own.
    key, _, _ = make_identity(str(tmp_path), "one")
    _, crt, fp_file = make_identity(str(tmp_path), "two")
    cfg = ("ip=10.0.2.77/24\ngw=10.0.2.2\ndns=10.0.2.3\n"
           "tls_cert=/keel/tls.crt\ntls_key=/keel/tls.key\n")
    k = MgmtKeel(tmp_path / "run", free_port(), guest_ip="10.0.2.77",
                 boot="iso", smp=2, mem="1G", cfg=cfg,
                 files={"/keel/tls.crt": crt, "/keel/tls.key": key})
    os.makedirs(k.tmp, exist_ok=True)
    k.start()
    try:
        m = k.wait_for(MGMT_RE)
        assert m.group(1) == "10.0.2.77"
        out = k.output()
        assert "net: virtio-net0: static 10.0.2.77/24 gw 10.0.2.2 dns 10.0.2.3" in out
        assert re.search(r"entropy: seeded: firmware seed 0 bits, .*TSC jitter "
                         r"\d+\.\d\d bits/sample", out), out
        assert "DHCP" not in out
        assert ("tls: tls_key /keel/tls.key does not belong to tls_cert "
                "/keel/tls.crt") in out
        assert "tls: using a certificate made at boot instead" in out
        assert m.group(2) != fp_file
        ver, _, der, _ = handshake(k.port, client_ctx())
        assert ver == "TLSv1.3"
        assert hashlib.sha256(der).hexdigest() == m.group(2)
    finally:
        k.stop()
