"""bench_mgmt.py - figures of the management API over HTTPS (DESIGN.md
section 6), Keel in QEMU (USB image under OVMF, SVM under TCG, 4 CPUs,
3 GiB, virtio-net on user networking with restrict=on, 127.0.0.1:<port>
forwarded to the guest's 443):

- keel_to_api_uefi: from the loader's first line to the first answer of
  GET /api/v1/openapi.json (DESIGN.md target: firmware time plus at most
  1 s from power-on).
- mgmt_tls_handshakes_per_s: full handshakes one after the other (TLS 1.3,
  Python's ssl, a new session each time), and the median one in ms.
- mgmt_host_get_per_s_{1,8}_clients: GET /api/v1/host with a token, each
  client on its own keep-alive connection, for BENCH_SECONDS.

Prints "bench <name> <value> <unit>". Without a management agent in the
build (no mgmt line on the console), says why on stderr and prints nothing.
"""
import hashlib
import http.client
import json
import os
import re
import socket
import ssl
import statistics
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from keelvm import QemuKeel  # noqa: E402

BENCH_SECONDS = float(os.environ.get("KEEL_BENCH_MGMT_SECONDS", "15"))
PASSWORD = "bench-pa55word"
MGMT_RE = r"keel: mgmt https://\S+ sha256=([0-9a-fA-F:]{64,95})\s*$"
LOADER_RE = r"keel-loader: Keel UEFI loader"


class BenchKeel(QemuKeel):
    """keelvm's USB boot with its user NIC forwarding 127.0.0.1:port."""

    def __init__(self, tmp, port, **kw):
        super().__init__(tmp, **kw)
        self.port = port

    def command(self):
        cmd, ser, qmp = super().command()
        fwd = ",hostfwd=tcp:127.0.0.1:%d-:443" % self.port
        return [a + fwd if a.startswith("user,id=n0,") else a for a in cmd], ser, qmp


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def password_line(pw, iterations=100000):
    """keel.cfg's password= (what keelctl hash-password prints)."""
    salt = os.urandom(16)
    key = hashlib.pbkdf2_hmac("sha256", pw.encode(), salt, iterations, 32)
    return "pbkdf2-sha256:%d:%s:%s" % (iterations, salt.hex(), key.hex())


def client_ctx():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # pinned by fingerprint below
    return ctx


def handshake(port, ctx):
    """Seconds of one full handshake; the peer certificate's SHA-256."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
        t0 = time.monotonic()
        with ctx.wrap_socket(s, server_hostname="keel") as t:
            dt = time.monotonic() - t0
            fp = hashlib.sha256(t.getpeercert(binary_form=True)).hexdigest()
    return dt, fp


def wait_api(port, deadline):
    """Poll until GET /api/v1/openapi.json answers 200; the time it did."""
    ctx = client_ctx()
    while time.monotonic() < deadline:
        try:
            c = http.client.HTTPSConnection("127.0.0.1", port, timeout=30, context=ctx)
            c.request("GET", "/api/v1/openapi.json")
            if c.getresponse().status == 200:
                return time.monotonic()
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(0.05)
    raise RuntimeError("the API did not answer")


def login(port):
    c = http.client.HTTPSConnection("127.0.0.1", port, timeout=60, context=client_ctx())
    c.request("POST", "/api/v1/session", body=json.dumps({"password": PASSWORD}),
              headers={"Content-Type": "application/json"})
    r = c.getresponse()
    body = r.read()
    if r.status not in (200, 201):
        raise RuntimeError("login: HTTP %d %s" % (r.status, body[:200]))
    return json.loads(body)["token"]


def host_gets(port, token, seconds, out, start):
    """GET /api/v1/host on one keep-alive connection until the time is up;
    appends the count to out."""
    c = http.client.HTTPSConnection("127.0.0.1", port, timeout=60, context=client_ctx())
    hdrs = {"Authorization": "Bearer " + token}
    n = 0
    start.wait()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        c.request("GET", "/api/v1/host", headers=hdrs)
        r = c.getresponse()
        r.read()
        if r.status != 200:
            raise RuntimeError("GET /host: HTTP %d" % r.status)
        n += 1
    c.close()
    out.append(n)


def host_rate(port, token, clients):
    counts, errors = [], []
    start = threading.Event()

    def run():
        try:
            host_gets(port, token, BENCH_SECONDS, counts, start)
        except Exception as e:  # reported below, with the figure missing
            errors.append(e)

    threads = [threading.Thread(target=run) for _ in range(clients)]
    for t in threads:
        t.start()
    t0 = time.monotonic()
    start.set()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError("%d client(s) failed: %s" % (len(errors), errors[0]))
    return sum(counts) / (time.monotonic() - t0)


def main():
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        k = BenchKeel(tmp, port, boot="usb", smp=4, mem="3G",
                      cfg="password=%s\n" % password_line(PASSWORD))
        k.start()
        try:
            t_loader = None
            k.wait_for(LOADER_RE, 240)
            t_loader = time.monotonic()
            k.wait_ready(240)
            try:
                m = k.wait_for(MGMT_RE, 120)
            except AssertionError:
                print("bench_mgmt: skipped: no \"keel: mgmt\" line: this Keel "
                      "has no management agent, or it did not come up",
                      file=sys.stderr)
                return
            t_api = wait_api(port, time.monotonic() + 120)
            print("bench keel_to_api_uefi %.2f s" % (t_api - t_loader))
            want = m.group(1).replace(":", "").lower()

            ctx = client_ctx()
            times, end = [], time.monotonic() + BENCH_SECONDS
            t0 = time.monotonic()
            while time.monotonic() < end or len(times) < 3:
                dt, fp = handshake(port, ctx)
                if fp != want:
                    raise RuntimeError("the certificate is not the printed one")
                times.append(dt)
            rate = len(times) / (time.monotonic() - t0)
            print("bench mgmt_tls_handshakes_per_s %.2f handshakes/s" % rate)
            print("bench mgmt_tls_handshake %.0f ms" % (1000 * statistics.median(times)))

            token = login(port)
            for clients in (1, 8):
                rate = host_rate(port, token, clients)
                print("bench mgmt_host_get_per_s_%d_client%s %.1f requests/s"
                      % (clients, "" if clients == 1 else "s", rate))
        finally:
            k.stop()


if __name__ == "__main__":
    try:
        main()
    except (RuntimeError, OSError, AssertionError, http.client.HTTPException) as e:
        # Figures, never pass/fail: say what stopped the rest.
        print("bench_mgmt: stopped: %s" % str(e)[:2000], file=sys.stderr)
