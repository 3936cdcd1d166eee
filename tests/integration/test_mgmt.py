"""test_mgmt.py - Keel's HTTPS management API end to end (DESIGN.md sections 6
and 10), from python3-requests and from keelctl, the admin's client.

- keelctl alone, against a stand-in server (Python's http.server over TLS on
  127.0.0.1, no QEMU, seconds): the hash-password line, usage and exit codes,
  certificate pinning (a wrong pin sends nothing, not even the password),
  keelctl.conf (mode 0600, the token, trust on first use with --insecure),
  tables and --json, uploads checked by SHA-256, console and send over a
  WebSocket.
- Keel in QEMU (USB image under OVMF, SVM under TCG, 4 CPUs, 3 GiB), once
  with virtio-net and once with e1000e, the API on a loopback port forward
  (user networking, restrict=on): the certificate is the one whose
  fingerprint the console printed (test_tls.py checks the TLS versions and
  suites); with requests: log in, host info, upload the Debian kernel and initramfs,
  create a Linux VM (2 vCPUs, 512 MiB), start it, read its console to
  userspace, pause/resume, the stop button's semantics, power it off,
  delete it; the errors (wrong password, missing token, bad JSON, unknown
  VM, illegal transition, an upload larger than free memory, an unknown
  route, a malformed request) each answered with its status and a JSON
  error while Keel and the VM carry on; then the same life of a VM with
  keelctl, typing into the guest's shell over the WebSocket.

The QEMU part is skipped while the tree has no management agent (mgmt/net.c,
mgmt/http.c, mgmt/api.c), and what needs the Linux guest is skipped when
make deps did not fetch the kernel. Each NIC's boot takes about 5 minutes
here (Keel's boot, two Linux boots, ~30 MB of uploads).
KEEL_MGMT_TIMEOUT bounds the wait for the management line, KEEL_LINUX_TIMEOUT
the guest's way to userspace.
"""
import base64
import hashlib
import http.server
import json
import os
import re
import socket
import ssl
import stat
import subprocess
import threading
import time
import warnings

import pytest

import linuxguest as lg
from keelvm import BOOT_TIMEOUT, BUILD, ROOT, QemuKeel

requests = pytest.importorskip("requests", reason="python3-requests is "
                               "missing (make deps)")
from urllib3.exceptions import InsecureRequestWarning  # noqa: E402

KEELCTL = os.path.join(BUILD, "keelctl")
PASSWORD = "keel-Test-pa55word"
MGMT_RE = re.compile(r"keel: mgmt https://(\S+?)/? sha256=([0-9A-Fa-f:]+)\s*$", re.M)
MGMT_TIMEOUT = float(os.environ.get("KEEL_MGMT_TIMEOUT", str(BOOT_TIMEOUT + 120)))
LINUX_TIMEOUT = float(os.environ.get("KEEL_LINUX_TIMEOUT", "600"))
AGENT_SOURCES = ["mgmt/net.c", "mgmt/http.c", "mgmt/api.c"]


def agent_missing():
    missing = [p for p in AGENT_SOURCES if not os.path.isfile(os.path.join(ROOT, p))]
    if missing:
        return ("the management agent is not in this tree yet (%s missing)"
                % ", ".join(missing))
    return None


needs_agent = pytest.mark.skipif(agent_missing() is not None,
                                 reason=agent_missing() or "")
needs_kernel = pytest.mark.skipif(lg.missing_reason() is not None,
                                  reason=lg.missing_reason() or "")


def need_keelctl():
    assert os.access(KEELCTL, os.X_OK), "%s is missing: run make" % KEELCTL


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def der_fingerprint(der):
    return hashlib.sha256(der).hexdigest()


def check_hash_line(line, password, iterations=100000):
    """line is pbkdf2-sha256:<iterations>:<16-byte salt>:<32-byte key> for
    password (DESIGN.md section 10), checked with Python's own PBKDF2."""
    m = re.fullmatch(r"pbkdf2-sha256:(\d+):([0-9a-f]{32}):([0-9a-f]{64})", line)
    assert m, "not a pbkdf2-sha256 line: %r" % line
    assert int(m.group(1)) == iterations
    key = hashlib.pbkdf2_hmac("sha256", password.encode(),
                              bytes.fromhex(m.group(2)), iterations, 32)
    assert key.hex() == m.group(3), "the key is not PBKDF2-HMAC-SHA256"


def run_keelctl(args, cfgdir, stdin=None, timeout=120):
    env = dict(os.environ, XDG_CONFIG_HOME=str(cfgdir), HOME=str(cfgdir))
    env.pop("KEELCTL_VERBOSE", None)
    return subprocess.run([KEELCTL] + list(args), input=stdin, text=True,
                          capture_output=True, timeout=timeout, env=env)


# --------------------------------------------------- raw HTTP over TLS ----

def tls_connect(port, ctx=None, timeout=30):
    if ctx is None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        return ctx.wrap_socket(raw, server_hostname="keel")
    except Exception:
        raw.close()
        raise


def read_response(s, timeout=30):
    """(status, headers dict lowercased, body bytes) of one HTTP answer
    on socket s; the body by Content-Length, else up to the close."""
    s.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    assert b"\r\n\r\n" in data, "no complete HTTP answer: %r" % data[:300]
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    m = re.match(r"HTTP/1\.[01] (\d{3})", lines[0])
    assert m, "not an HTTP status line: %r" % lines[0]
    headers = {}
    for l in lines[1:]:
        k, _, v = l.partition(":")
        headers[k.strip().lower()] = v.strip()
    if "content-length" in headers:
        want = int(headers["content-length"])
        while len(body) < want:
            chunk = s.recv(65536)
            if not chunk:
                break
            body += chunk
    return int(m.group(1)), headers, body


def assert_json_error(status, body, want):
    """An API error: the status, and {"error": "<message>", "code": status}."""
    assert status == want, "HTTP %d, want %d: %r" % (status, want, body[:300])
    try:
        doc = json.loads(body)
    except ValueError:
        raise AssertionError("the %d answer has no JSON body: %r" % (status, body[:300]))
    assert isinstance(doc.get("error"), str) and doc["error"], doc
    assert doc.get("code") == status, doc
    return doc["error"]


# ============================================================================
# keelctl against a stand-in server
# ============================================================================

class StandIn:
    """Enough of the documented API for keelctl's own behaviour, over TLS
    with a fresh P-256 certificate: an in-memory state, every request
    recorded as (method, path, Authorization). Not a model of Keel: the
    real server is tested below."""
    UPLOAD_MAX = 1 << 20

    def __init__(self, tmp):
        self.tmp = str(tmp)
        cert, key = os.path.join(self.tmp, "cert.pem"), os.path.join(self.tmp, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
                        "-out", cert, "-days", "2", "-subj", "/CN=keel-standin"],
                       check=True, capture_output=True)
        with open(cert) as f:
            self.fingerprint = der_fingerprint(ssl.PEM_cert_to_DER_cert(f.read()))
        self.requests = []
        self.tokens = set()
        self.images = {}
        self.vms = {}
        self.console = "boot line 1\r\nKEEL-GUEST: userspace up\r\n"
        self.typed = []
        self.lie_about_sha = False
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        standin = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def handle_expect_100(self):
                # As Keel: an upload it cannot take is refused from its
                # head, before the client sends the body.
                n = int(self.headers.get("Content-Length") or 0)
                if self.command == "PUT" and n > StandIn.UPLOAD_MAX:
                    standin.requests.append((self.command, self.path, "expect"))
                    standin.error(self, 413, "image larger than %d bytes"
                                  % StandIn.UPLOAD_MAX, close=True)
                    return False
                return super().handle_expect_100()

            def do_GET(self):
                standin.handle(self, "GET")

            def do_POST(self):
                standin.handle(self, "POST")

            def do_PUT(self):
                standin.handle(self, "PUT")

            def do_DELETE(self):
                standin.handle(self, "DELETE")

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.host = "127.0.0.1:%d" % self.port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    @staticmethod
    def send(h, status, doc=None, ctype="application/json", close=False):
        body = b"" if doc is None else (
            doc if isinstance(doc, bytes) else json.dumps(doc).encode())
        h.send_response(status)
        if status != 204:
            h.send_header("Content-Type", ctype)
            h.send_header("Content-Length", str(len(body)))
        if close:
            h.send_header("Connection", "close")
            h.close_connection = True
        h.end_headers()
        h.wfile.write(body)

    def error(self, h, status, msg, close=False):
        self.send(h, status, {"error": msg, "code": status}, close=close)

    def vm_doc(self, name):
        vm = dict(self.vms[name])
        vm["name"] = name
        return vm

    def handle(self, h, method):
        path, _, query = h.path.partition("?")
        auth = h.headers.get("Authorization")
        self.requests.append((method, path, auth))
        body = b""
        n = int(h.headers.get("Content-Length") or 0)
        if n:
            body = h.rfile.read(n)
        if not path.startswith("/api/v1/"):
            return self.error(h, 404, "no such route")
        path = path[len("/api/v1"):]
        if (method, path) == ("POST", "/session"):
            try:
                pw = json.loads(body)["password"]
            except (ValueError, KeyError, TypeError):
                return self.error(h, 400, "bad JSON")
            if pw != PASSWORD:
                return self.error(h, 401, "wrong password")
            token = base64.b16encode(os.urandom(16)).decode().lower()
            self.tokens.add(token)
            return self.send(h, 201, {"token": token})
        if path == "/openapi.json":
            return self.send(h, 200, {"openapi": "3.0.3", "paths": {}})
        token = (auth or "").partition("Bearer ")[2]
        if token not in self.tokens:
            return self.error(h, 401, "missing or bad token")
        if (method, path) == ("DELETE", "/session"):
            self.tokens.discard(token)
            return self.send(h, 204)
        if path == "/host":
            return self.send(h, 200, {"version": "standin", "cpus": 4,
                                      "memory_total_mib": 3000,
                                      "memory_free_mib": 2500, "virt": "svm",
                                      "uptime_s": 3725, "vms": len(self.vms)})
        if path == "/log":
            return self.send(h, 200, b"keel: ready\nkeel: mgmt up\n", "text/plain")
        if path == "/images":
            return self.send(h, 200, [dict(v, name=k) for k, v in self.images.items()])
        m = re.fullmatch(r"/images/([^/]+)", path)
        if m:
            name = m.group(1)
            if method == "PUT":
                sha = hashlib.sha256(body).hexdigest()
                if self.lie_about_sha:
                    sha = "0" * 64
                self.images[name] = {"size": len(body), "sha256": sha}
                return self.send(h, 201, dict(self.images[name], name=name))
            if name not in self.images:
                return self.error(h, 404, "no such image")
            if method == "DELETE":
                del self.images[name]
                return self.send(h, 204)
            return self.send(h, 200, dict(self.images[name], name=name))
        if (method, path) == ("POST", "/vms"):
            try:
                req = json.loads(body)
            except ValueError:
                return self.error(h, 400, "bad JSON")
            name = req.pop("name")
            self.vms[name] = dict(id=len(self.vms) + 1, state="created", cpus=1,
                                  memory_mib=256, initrd="", cmdline="",
                                  firmware="", disk="")
            self.vms[name].update(req)
            return self.send(h, 201, self.vm_doc(name))
        if path == "/vms":
            return self.send(h, 200, [self.vm_doc(n) for n in self.vms])
        m = re.fullmatch(r"/vms/([^/]+)(?:/(\w+))?(/ws)?", path)
        if not m or m.group(1) not in self.vms:
            return self.error(h, 404, "no such VM" if m else "no such route")
        name, action = m.group(1), m.group(2)
        if action == "console" and m.group(3):
            return self.websocket(h, name)
        if action == "console":
            since = int(re.search(r"since=(\d+)", query).group(1)) if "since=" in query else 0
            data = self.console.encode()[since:].decode()
            return self.send(h, 200, {"data": data, "next": since + len(data.encode())})
        if method == "DELETE" and not action:
            del self.vms[name]
            return self.send(h, 204)
        if not action:
            return self.send(h, 200, self.vm_doc(name))
        moves = {"start": ("created", "running"), "pause": ("running", "paused"),
                 "resume": ("paused", "running"), "poweroff": ("running", "stopped")}
        frm, to = moves.get(action, (None, None))
        if self.vms[name]["state"] != frm:
            return self.error(h, 409, "cannot %s a %s VM" % (action, self.vms[name]["state"]))
        self.vms[name]["state"] = to
        return self.send(h, 200, self.vm_doc(name))

    def websocket(self, h, name):
        key = h.headers.get("Sec-WebSocket-Key", "")
        accept = base64.b64encode(hashlib.sha1(
            (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
        h.send_response(101)
        h.send_header("Upgrade", "websocket")
        h.send_header("Connection", "Upgrade")
        h.send_header("Sec-WebSocket-Accept", accept)
        h.end_headers()
        h.wfile.write(b"\x81\x05hello")  # console output first, as Keel would
        h.wfile.flush()
        h.close_connection = True
        while True:
            b0, b1 = h.rfile.read(2)
            n = b1 & 0x7F
            if n == 126:
                n = int.from_bytes(h.rfile.read(2), "big")
            elif n == 127:
                n = int.from_bytes(h.rfile.read(8), "big")
            mask = h.rfile.read(4) if b1 & 0x80 else b"\0\0\0\0"
            data = bytes(c ^ mask[i % 4] for i, c in enumerate(h.rfile.read(n)))
            self.typed.append((b0 & 0x0F, bool(b1 & 0x80), data))
            if b0 & 0x0F == 8:
                h.wfile.write(b"\x88\x02\x03\xe8")
                h.wfile.flush()
                return


@pytest.fixture
def standin(tmp_path):
    need_keelctl()
    s = StandIn(tmp_path)
    yield s
    s.stop()


def kc(standin, cfgdir, *args, pin=True, stdin=None):
    """keelctl against the stand-in, pinned to its certificate."""
    opts = ["--host", standin.host]
    if pin:
        opts += ["--fingerprint", standin.fingerprint]
    return run_keelctl(opts + list(args), cfgdir, stdin=stdin)


def test_keelctl_hash_password_line(tmp_path):
    need_keelctl()
    r = run_keelctl(["hash-password"], tmp_path, stdin="correct horse\n")
    assert r.returncode == 0, r.stderr
    line = r.stdout.strip()
    check_hash_line(line, "correct horse")
    again = run_keelctl(["hash-password"], tmp_path, stdin="correct horse\n")
    assert again.stdout.strip() != line, "the salt must be random"
    r = run_keelctl(["hash-password", "--iterations", "5000"], tmp_path,
                    stdin="x y\n")
    check_hash_line(r.stdout.strip(), "x y", 5000)
    r = run_keelctl(["hash-password"], tmp_path, stdin="\n")
    assert r.returncode == 2 and "empty" in r.stderr, r


def test_keelctl_usage_and_connection_exit_codes(tmp_path):
    need_keelctl()
    for args, words in ((["frobnicate"], "unknown command"),
                        (["vm-create", "x"], "--kernel"),
                        (["vm-start"], "missing arguments"),
                        (["--host", "h", "vms", "--cpus", "2"], "does not take"),
                        (["vms"], "which Keel"),
                        (["--host", "h", "--fingerprint", "12", "vms"], "fingerprint")):
        r = run_keelctl(args, tmp_path)
        assert r.returncode == 2, (args, r)
        assert words in r.stderr, (args, r.stderr)
    r = run_keelctl(["--host", "127.0.0.1:%d" % free_port(), "--insecure", "host"],
                    tmp_path)
    assert r.returncode == 3, r
    assert "127.0.0.1" in r.stderr
    r = run_keelctl(["help"], tmp_path)
    assert r.returncode == 0
    for cmd in ("login", "logout", "host", "images", "image-upload", "image-delete",
                "vms", "vm-create", "vm-start", "vm-stop", "vm-poweroff", "vm-reset",
                "vm-pause", "vm-resume", "vm-delete", "console", "send", "log",
                "hash-password"):
        assert re.search(r"^  %s\b" % cmd, r.stdout, re.M), cmd


def test_keelctl_pin_mismatch_sends_nothing(standin, tmp_path):
    r = kc(standin, tmp_path, "login", "--password-stdin", pin=False,
           stdin=PASSWORD + "\n")
    # Neither pinned nor --insecure: the system's CAs do not know it.
    assert r.returncode == 3, r
    assert "not trusted" in r.stderr and standin.fingerprint in r.stderr, r.stderr
    wrong = "ab" * 32
    r = run_keelctl(["--host", standin.host, "--fingerprint", wrong, "login",
                     "--password-stdin"], tmp_path, stdin=PASSWORD + "\n")
    assert r.returncode == 3, r
    assert "mismatch" in r.stderr and standin.fingerprint in r.stderr, r.stderr
    assert standin.requests == [], "a request went to an unpinned server"
    assert not os.path.exists(tmp_path / "keel" / "keelctl.conf")
    # Keel prints it as sha256=<hex>; colons and capitals are forgiven.
    fp = ":".join(standin.fingerprint[i:i + 2].upper() for i in range(0, 64, 2))
    r = run_keelctl(["--host", standin.host, "--fingerprint", "sha256=" + fp, "host"],
                    tmp_path)
    assert r.returncode == 1 and "HTTP 401" in r.stderr, r
    assert "not logged in" in r.stderr


def test_keelctl_login_keeps_token_in_private_config(standin, tmp_path):
    r = kc(standin, tmp_path, "login", "--password-stdin", stdin="wrong\n")
    assert r.returncode == 1 and "wrong password (HTTP 401)" in r.stderr, r
    r = kc(standin, tmp_path, "login", "--password-stdin", stdin=PASSWORD + "\n")
    assert r.returncode == 0, r.stderr
    conf = tmp_path / "keel" / "keelctl.conf"
    assert stat.S_IMODE(os.stat(conf).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(conf.parent).st_mode) == 0o700
    text = conf.read_text()
    token = re.search(r"^token=(\w+)$", text, re.M).group(1)
    assert token in standin.tokens
    assert "host=%s\n" % standin.host in text
    assert "fingerprint=%s\n" % standin.fingerprint in text
    # Later calls need neither --host nor the pin, and send the token.
    standin.requests.clear()
    r = run_keelctl(["host"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert standin.requests == [("GET", "/api/v1/host", "Bearer " + token)]
    assert re.search(r"^cpus +4$", r.stdout, re.M), r.stdout
    assert re.search(r"^memory +2500 MiB free of 3000 MiB$", r.stdout, re.M)
    assert re.search(r"^uptime +1h 2m 5s$", r.stdout, re.M)
    # Another host: the stored token and pin are not sent there.
    r = run_keelctl(["--host", "127.0.0.1:%d" % free_port(), "host"], tmp_path)
    assert r.returncode == 3
    r = run_keelctl(["logout"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert ("DELETE", "/api/v1/session", "Bearer " + token) in standin.requests
    assert token not in standin.tokens
    assert "token=\n" in conf.read_text()
    r = run_keelctl(["host"], tmp_path)
    assert r.returncode == 1 and "not logged in" in r.stderr


def test_keelctl_insecure_login_pins_what_it_saw(standin, tmp_path):
    r = kc(standin, tmp_path, "--insecure", "login", "--password-stdin",
           pin=False, stdin=PASSWORD + "\n")
    assert r.returncode == 0, r.stderr
    assert standin.fingerprint in r.stderr
    conf = (tmp_path / "keel" / "keelctl.conf").read_text()
    assert "fingerprint=%s\n" % standin.fingerprint in conf
    assert run_keelctl(["vms"], tmp_path).returncode == 0


def test_keelctl_vm_commands_tables_and_json(standin, tmp_path):
    assert kc(standin, tmp_path, "login", "--password-stdin",
              stdin=PASSWORD + "\n").returncode == 0
    r = run_keelctl(["vm-create", "web", "--kernel", "vmlinuz", "--initrd", "initrd",
                     "--cmdline", "console=ttyS0 panic=-1", "--cpus", "2",
                     "--mem", "512"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert re.search(r"^state +created$", r.stdout, re.M), r.stdout
    assert re.search(r"^memory +512 MiB$", r.stdout, re.M), r.stdout
    assert re.search(r"^cmdline +console=ttyS0 panic=-1$", r.stdout, re.M)
    posted = json.loads(json.dumps(standin.vms["web"]))
    assert posted["cpus"] == 2 and posted["memory_mib"] == 512
    assert posted["kernel"] == "vmlinuz" and posted["initrd"] == "initrd"
    r = run_keelctl(["vm-pause", "web"], tmp_path)
    assert r.returncode == 1, r
    assert "cannot pause a created VM (HTTP 409)" in r.stderr
    r = run_keelctl(["vm-start", "web"], tmp_path)
    assert (r.returncode, r.stdout) == (0, "vm web: running\n"), r
    run_keelctl(["vm-create", "database-01", "--firmware", "ovmf", "--mem", "2G"],
                tmp_path)
    r = run_keelctl(["vms"], tmp_path)
    assert r.stdout.splitlines() == [
        "ID  NAME         STATE    CPUS    MEMORY  KERNEL",
        " 1  web          running     2   512 MiB  vmlinuz",
        " 2  database-01  created     1  2048 MiB  -"], r.stdout
    r = run_keelctl(["--json", "vms"], tmp_path)
    doc = json.loads(r.stdout)
    assert [v["name"] for v in doc] == ["web", "database-01"]
    r = run_keelctl(["vm", "nosuch"], tmp_path)
    assert r.returncode == 1 and "no such VM (HTTP 404)" in r.stderr
    r = run_keelctl(["vm-delete", "database-01"], tmp_path)
    assert r.returncode == 0 and "database-01" not in standin.vms
    r = run_keelctl(["log"], tmp_path)
    assert r.stdout == "keel: ready\nkeel: mgmt up\n"
    r = run_keelctl(["openapi"], tmp_path)
    assert json.loads(r.stdout)["openapi"].startswith("3")


def test_keelctl_upload_is_checked(standin, tmp_path):
    assert kc(standin, tmp_path, "login", "--password-stdin",
              stdin=PASSWORD + "\n").returncode == 0
    blob = tmp_path / "kernel.bin"
    blob.write_bytes(os.urandom(300000))
    r = run_keelctl(["image-upload", "k1", str(blob)], tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "uploaded k1: 293 KiB, sha256 %s\n" % sha256_file(blob)
    assert standin.images["k1"]["size"] == 300000
    r = run_keelctl(["images"], tmp_path)
    assert r.stdout.splitlines() == ["NAME     SIZE  SHA256",
                                   "k1    293 KiB  %s" % sha256_file(blob)]
    standin.lie_about_sha = True
    r = run_keelctl(["image-upload", "k2", str(blob)], tmp_path)
    assert r.returncode == 1 and "but the file has" in r.stderr, r
    big = tmp_path / "big.bin"
    big.write_bytes(b"\0" * (3 * StandIn.UPLOAD_MAX))
    r = run_keelctl(["image-upload", "big", str(big)], tmp_path)
    assert r.returncode == 1, r
    assert "image larger than" in r.stderr and "HTTP 413" in r.stderr
    assert ("PUT", "/api/v1/images/big", "expect") in standin.requests
    r = run_keelctl(["image-upload", "x", str(tmp_path / "missing")], tmp_path)
    assert r.returncode == 2
    assert run_keelctl(["image-delete", "k1"], tmp_path).returncode == 0
    assert "k1" not in standin.images


def test_keelctl_console_and_send(standin, tmp_path):
    assert kc(standin, tmp_path, "login", "--password-stdin",
              stdin=PASSWORD + "\n").returncode == 0
    run_keelctl(["vm-create", "web", "--kernel", "k"], tmp_path)
    # (text mode reads the console's CRLF as LF)
    r = run_keelctl(["console", "web"], tmp_path)
    assert r.stdout == standin.console.replace("\r\n", "\n"), r
    r = run_keelctl(["console", "web", "--since", "13"], tmp_path)
    assert r.stdout == standin.console[13:].replace("\r\n", "\n")
    r = run_keelctl(["send", "web", "echo héllo"], tmp_path)
    assert r.returncode == 0, r.stderr
    # One masked text frame with the text and CR, then a masked close (1000).
    assert standin.typed == [(1, True, "echo héllo\r".encode()),
                             (8, True, b"\x03\xe8")], standin.typed
    r = run_keelctl(["send", "-n", "web", "--", "-x"], tmp_path)
    assert standin.typed[2] == (1, True, b"-x")
    r = run_keelctl(["send", "nosuch", "x"], tmp_path)
    assert r.returncode == 1 and "HTTP 404" in r.stderr


# ============================================================================
# Keel in QEMU
# ============================================================================

class MgmtKeel(QemuKeel):
    """A QEMU boot whose one NIC (model nic) is the management network:
    user networking with restrict=on and a forward from 127.0.0.1:port to
    the guest's 443, in place of keelvm's own user NIC."""

    def __init__(self, tmp, nic, port, **kw):
        super().__init__(tmp, **kw)
        self.nic = nic
        self.port = port

    def command(self):
        cmd, ser, qmp = super().command()
        out, i = [], 0
        while i < len(cmd):
            if (cmd[i] in ("-netdev", "-device") and i + 1 < len(cmd) and
                    re.search(r"(^|,)(id|netdev)=n0(,|$)", cmd[i + 1])):
                i += 2
                continue
            out.append(cmd[i])
            i += 1
        out += ["-netdev", "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:%d-:443"
                % self.port,
                "-device", "%s,netdev=n0,romfile=" % self.nic]
        return out, ser, qmp


class Mgmt:
    """One Keel boot with its API: the URL, the printed fingerprint, a
    requests session, keelctl's config folder, and which steps of the
    module's story worked (later tests need earlier ones)."""

    def __init__(self, keel, nic, port, fingerprint, tmp):
        self.keel = keel
        self.nic = nic
        self.port = port
        self.host = "127.0.0.1:%d" % port
        self.base = "https://%s/api/v1" % self.host
        self.fingerprint = fingerprint
        self.cfgdir = tmp / "keelctl-config"
        self.cfgdir.mkdir()
        self.s = requests.Session()
        # The certificate is checked by fingerprint; and no CA bundle or
        # proxy from the environment (REQUESTS_CA_BUNDLE would win over
        # verify=False).
        self.s.trust_env = False
        self.s.verify = False
        self.token = None
        self.steps = set()
        self.mark = 0  # Keel console offset where a check started

    def url(self, path):
        return self.base + path

    def req(self, method, path, **kw):
        kw.setdefault("timeout", 60)
        kw.setdefault("verify", False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", InsecureRequestWarning)
            return self.s.request(method, self.url(path), **kw)

    def auth(self):
        assert self.token, "not logged in: test_requests_login_and_host failed"
        return {"Authorization": "Bearer " + self.token}

    def api(self, method, path, want=(200,), **kw):
        """An authorized call that must answer one of want; its JSON."""
        h = dict(kw.pop("headers", {}), **self.auth())
        r = self.req(method, path, headers=h, **kw)
        assert r.status_code in want, "%s %s: HTTP %d %s" % (
            method, path, r.status_code, r.text[:500])
        if r.content and r.headers.get("Content-Type", "").startswith("application/json"):
            return r.json()
        return r.content

    def need(self, *steps):
        missing = [s for s in steps if s not in self.steps]
        if missing:
            pytest.fail("needs what failed before: %s" % ", ".join(missing))

    def keelctl(self, *args, stdin=None, timeout=300, pin=True):
        opts = ["--host", self.host]
        if pin:
            opts += ["--fingerprint", self.fingerprint]
        return run_keelctl(opts + list(args), self.cfgdir, stdin=stdin,
                           timeout=timeout)

    def host_answers(self):
        info = self.api("GET", "/host")
        assert info["cpus"] == 4, info
        return info


def console_chunk(mgmt, vm, since):
    """(text, next offset) of GET /vms/{vm}/console?since=: JSON {"since":
    offset of the data's first byte, "next", "data"}, with the next offset
    in X-Console-Next too."""
    r = mgmt.req("GET", "/vms/%s/console" % vm, params={"since": since},
                 headers=mgmt.auth())
    assert r.status_code == 200, "console: HTTP %d %s" % (r.status_code, r.text[:300])
    doc = r.json()
    # The ring may have moved past since (then data starts later), and a
    # since past the end is the end.
    assert doc["since"] <= doc["next"], doc
    assert doc["since"] >= since or doc["since"] == doc["next"], (since, doc)
    assert r.headers.get("X-Console-Next") == str(doc["next"]), r.headers
    return doc["data"], doc["next"]


class ConsoleReader:
    """A VM's console as the API serves it, read on by offset."""

    def __init__(self, mgmt, vm):
        self.mgmt, self.vm = mgmt, vm
        self.text, self.next = "", 0

    def poll(self):
        chunk, self.next = console_chunk(self.mgmt, self.vm, self.next)
        self.text += chunk
        return chunk

    def wait(self, pattern, timeout, start=0):
        rx = re.compile(pattern, re.M)
        deadline = time.monotonic() + timeout
        while True:
            self.poll()
            m = rx.search(lg.clean(self.text), start)
            if m:
                return m
            out = self.mgmt.keel.output()
            stopped = re.search(r"keel: vm %s stopped reason=.*" % self.vm, out)
            assert not stopped, "%s\nconsole:\n%s" % (stopped.group(0), self.text[-3000:])
            assert self.mgmt.keel.proc.poll() is None, "QEMU exited:\n%s" % out[-3000:]
            assert time.monotonic() < deadline, (
                "no %r in VM %s's console after %.0f s; it has:\n%s"
                % (pattern, self.vm, timeout, self.text[-3000:]))
            time.sleep(0.5)


@pytest.fixture(scope="module", params=["virtio-net-pci", "e1000e"])
def mgmt(request, tmp_path_factory):
    """Keel booted with the NIC model of the parameter and password= from
    keelctl hash-password; once for the module's tests of that NIC."""
    why = agent_missing()
    if why:
        pytest.skip(why)
    need_keelctl()
    tmp = tmp_path_factory.mktemp("mgmt-" + request.param)
    r = run_keelctl(["hash-password"], tmp, stdin=PASSWORD + "\n")
    assert r.returncode == 0, r.stderr
    port = free_port()
    k = MgmtKeel(tmp / "qemu", request.param, port, boot="usb", smp=4, mem="3G",
                 cfg="password=%s\n" % r.stdout.strip())
    os.makedirs(k.tmp)
    k.start()
    try:
        k.wait_ready()
        m = k.wait_for(MGMT_RE.pattern, MGMT_TIMEOUT)
        fp = m.group(2).replace(":", "").lower()
        assert len(fp) == 64, m.group(0)
        yield Mgmt(k, request.param, port, fp, tmp)
    finally:
        k.stop()


def login(mgmt, password=PASSWORD, timeout=90):
    """POST /session, waiting out the login rate limit (429) if a test
    before tripped it."""
    deadline = time.monotonic() + timeout
    while True:
        r = mgmt.req("POST", "/session", json={"password": password})
        if r.status_code != 429 or time.monotonic() > deadline:
            return r
        time.sleep(min(float(r.headers.get("Retry-After", "2")), 10))


# -------------------------------------------------------- TLS and auth ----

@needs_agent
def test_certificate_is_the_printed_one(mgmt):
    s = tls_connect(mgmt.port)
    try:
        der = s.getpeercert(binary_form=True)
        assert der_fingerprint(der) == mgmt.fingerprint, (
            "the server's certificate is not the one whose fingerprint "
            "Keel printed")
        assert s.version() in ("TLSv1.2", "TLSv1.3"), s.version()
        assert re.search(r"GCM|CHACHA20|CCM", s.cipher()[0]), s.cipher()
    finally:
        s.close()
    # requests, too, reaches the same server (verify=False, pinned above).
    r = mgmt.req("GET", "/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert str(doc.get("openapi", "")).startswith("3"), str(doc)[:300]
    paths = " ".join(doc.get("paths", {}))
    for p in ("/session", "/host", "/images", "/vms", "/console", "/log"):
        assert p in paths, "the OpenAPI document has no %s path: %s" % (p, paths)
    mgmt.steps.add("tls")


@needs_agent
def test_wrong_password_and_missing_token(mgmt):
    r = login(mgmt, "not-" + PASSWORD)
    assert_json_error(r.status_code, r.content, 401)
    r = mgmt.req("GET", "/host")
    assert_json_error(r.status_code, r.content, 401)
    r = mgmt.req("GET", "/vms", headers={"Authorization": "Bearer " + "0" * 64})
    assert_json_error(r.status_code, r.content, 401)
    r = mgmt.req("POST", "/session", data=b'{"password": ',
                 headers={"Content-Type": "application/json"})
    assert_json_error(r.status_code, r.content, 400)


@needs_agent
def test_requests_login_and_host(mgmt):
    r = login(mgmt)
    assert r.status_code in (200, 201), r.text
    mgmt.token = r.json()["token"]
    assert isinstance(mgmt.token, str) and len(mgmt.token) >= 16
    info = mgmt.api("GET", "/host")
    for key in ("version", "cpus", "memory_total_mib", "memory_free_mib", "virt",
                "uptime_s", "vms"):
        assert key in info, "GET /host has no %s: %s" % (key, info)
    assert info["cpus"] == 4 and info["virt"] == "svm", info
    assert isinstance(info["version"], str) and info["version"], info
    # -m 3G: what Keel counts as its memory, less firmware's and holes.
    assert 0.8 * 3072 <= info["memory_total_mib"] <= 3072, info
    assert 0 < info["memory_free_mib"] <= info["memory_total_mib"], info
    assert info["uptime_s"] >= 0 and info["vms"] == 0, info
    time.sleep(1.5)
    assert mgmt.api("GET", "/host")["uptime_s"] >= info["uptime_s"] + 1
    log = mgmt.api("GET", "/log")
    text = log if isinstance(log, bytes) else json.dumps(log).encode()
    assert b"keel" in text, text[:300]
    mgmt.steps.add("login")


# ------------------------------------------- a Linux VM through requests ----

@needs_agent
@needs_kernel
def test_requests_upload_images(mgmt):
    mgmt.need("login")
    kernel, initrd = lg.build()
    for name, path in (("vmlinuz", kernel), ("initramfs", initrd)):
        with open(path, "rb") as f:
            doc = mgmt.api("PUT", "/images/" + name, want=(200, 201), data=f,
                           headers={"Content-Type": "application/octet-stream"},
                           timeout=600)
        assert doc["name"] == name and doc["size"] == os.path.getsize(path), doc
        assert doc["sha256"] == sha256_file(path), doc
    listed = mgmt.api("GET", "/images")
    listed = listed["images"]
    by_name = {i["name"]: i for i in listed}
    assert by_name["vmlinuz"]["sha256"] == sha256_file(kernel), listed
    assert by_name["initramfs"]["size"] == os.path.getsize(initrd), listed
    assert mgmt.api("GET", "/images/initramfs")["sha256"] == sha256_file(initrd)
    mgmt.steps.add("images")


@needs_agent
@needs_kernel
def test_requests_create_and_start_vm(mgmt):
    mgmt.need("images")
    spec = {"name": "web", "cpus": lg.CPUS, "memory_mib": 512, "kernel": "vmlinuz",
            "initrd": "initramfs", "cmdline": lg.CMDLINE}
    vm = mgmt.api("POST", "/vms", want=(201,), json=spec)
    for k, v in spec.items():
        assert vm[k] == v, (k, vm)
    assert vm["state"] == "created" and "id" in vm, vm
    assert {"firmware", "disk"} <= set(vm), vm
    listed = mgmt.api("GET", "/vms")
    listed = listed["vms"]
    assert [v["name"] for v in listed] == ["web"], listed
    assert mgmt.api("GET", "/vms/%s" % vm["id"])["name"] == "web"
    # Illegal transitions of a created VM: 409, and nothing changes.
    for action in ("pause", "resume", "stop"):
        r = mgmt.req("POST", "/vms/web/" + action, headers=mgmt.auth())
        assert_json_error(r.status_code, r.content, 409)
    assert mgmt.api("GET", "/vms/web")["state"] == "created"
    mgmt.mark = len(mgmt.keel.output())
    mgmt.api("POST", "/vms/web/start", want=(200, 202, 204))
    assert mgmt.api("GET", "/vms/web")["state"] == "running"
    mgmt.keel.wait_for(r"keel: vm web started cpus=2 mem_mib=512", 60, mgmt.mark)
    mgmt.steps.add("started")


def huge_upload(mgmt, size):
    """PUT an image announced as size bytes over a raw TLS socket, and
    send none of them: the answer must come from the head."""
    s = tls_connect(mgmt.port)
    try:
        s.sendall(("PUT /api/v1/images/huge HTTP/1.1\r\nHost: %s\r\n"
                   "Authorization: Bearer %s\r\n"
                   "Content-Type: application/octet-stream\r\n"
                   "Content-Length: %d\r\n\r\n" % (mgmt.host, mgmt.token, size)).encode())
        return read_response(s, timeout=60)
    finally:
        s.close()


@needs_agent
@needs_kernel
def test_errors_while_the_vm_runs(mgmt):
    """Each error gets its status and a JSON body; Keel still answers and
    the VM's console keeps growing (it is booting meanwhile)."""
    mgmt.need("started")
    con = ConsoleReader(mgmt, "web")
    con.poll()
    before = con.next
    auth = dict(mgmt.auth(), **{"Content-Type": "application/json"})
    checks = [
        ("wrong password", lambda: login(mgmt, "wrong"), 401),
        ("no token", lambda: mgmt.req("GET", "/vms"), 401),
        ("bad JSON", lambda: mgmt.req("POST", "/vms", data=b'{"name": "x", ',
                                      headers=auth), 400),
        ("JSON not an object", lambda: mgmt.req("POST", "/vms", data=b"[1]",
                                                headers=auth), 400),
        ("unknown VM", lambda: mgmt.req("GET", "/vms/nosuch", headers=auth), 404),
        ("unknown VM action", lambda: mgmt.req("POST", "/vms/nosuch/start",
                                               headers=auth), 404),
        ("resume a running VM", lambda: mgmt.req("POST", "/vms/web/resume",
                                                 headers=auth), 409),
        ("delete a running VM", lambda: mgmt.req("DELETE", "/vms/web",
                                                 headers=auth), 409),
        ("unknown route", lambda: mgmt.req("GET", "/nosuch", headers=auth), 404),
        ("unknown image", lambda: mgmt.req("GET", "/images/nosuch",
                                           headers=auth), 404),
    ]
    for name, call, want in checks:
        r = call()
        try:
            assert_json_error(r.status_code, r.content, want)
        except AssertionError as e:
            raise AssertionError("%s: %s" % (name, e))
        mgmt.host_answers()

    # An upload larger than free memory: refused from its head, with one
    # clear error (413 beyond the image size limit, 507 beyond free memory).
    free = mgmt.api("GET", "/host")["memory_free_mib"]
    status, headers, body = huge_upload(mgmt, (free + 512) << 20)
    msg = assert_json_error(status, body, status)
    assert status in (413, 507), (status, msg)
    images = mgmt.api("GET", "/images")
    assert "huge" not in [i["name"] for i in images["images"]], images
    mgmt.host_answers()

    # A malformed request over a raw TLS socket.
    for raw in (b"GARBAGE\r\n\r\n", b"GET /api/v1/host HTTP/1.1 x\r\nHost: k\r\n\r\n",
                b"GET /api/v1/host HTTP/1.1\r\nNo colon here\r\n\r\n"):
        s = tls_connect(mgmt.port)
        try:
            s.sendall(raw)
            status, _, body = read_response(s)
        finally:
            s.close()
        assert_json_error(status, body, 400)
    mgmt.host_answers()

    deadline = time.monotonic() + 120
    while con.next <= before and USERSPACE_RE.search(con.text) is None:
        assert time.monotonic() < deadline, "the VM's console stopped growing"
        time.sleep(1)
        con.poll()
    assert mgmt.api("GET", "/vms/web")["state"] == "running"
    mgmt.steps.add("errors")


@needs_agent
@needs_kernel
def test_upload_larger_than_free_memory(mgmt):
    """Under the 1 GiB image limit but over free memory: 507 from the head.
    A VM that is made (not started) holds its memory, so one is made to
    leave about 900 MiB free. Zeroing its memory takes Keel's management
    thread about 7 s per GiB under TCG: the answer must still come."""
    mgmt.need("started")
    free = mgmt.api("GET", "/host")["memory_free_mib"]
    hog = free - 900
    mgmt.api("POST", "/vms", want=(201,), timeout=120,
             json={"name": "hog", "memory_mib": hog, "kernel": "vmlinuz"})
    try:
        left = mgmt.api("GET", "/host")["memory_free_mib"]
        assert left < free - hog / 2, "the made VM holds no memory: %d MiB free" % left
        status, headers, body = huge_upload(mgmt, (left + 64) << 20)
        assert_json_error(status, body, 507)
    finally:
        mgmt.api("DELETE", "/vms/hog", want=(200, 204))
    assert mgmt.api("GET", "/vms/web")["state"] == "running"
    images = mgmt.api("GET", "/images")
    assert "huge" not in [i["name"] for i in images["images"]], images


USERSPACE_RE = re.compile(re.escape(lg.USERSPACE))


@needs_agent
@needs_kernel
def test_requests_console_reaches_userspace(mgmt):
    mgmt.need("started")
    con = ConsoleReader(mgmt, "web")
    con.wait(re.escape(lg.USERSPACE), LINUX_TIMEOUT)
    con.wait(r"KEEL-GUEST: cpus=%d" % lg.CPUS, 60)
    # since= past the end gives nothing new; from the start, all of it.
    text, nxt = console_chunk(mgmt, "web", con.next)
    assert nxt >= con.next
    whole, _ = console_chunk(mgmt, "web", 0)
    assert lg.USERSPACE in whole
    mgmt.steps.add("userspace")


@needs_agent
@needs_kernel
def test_requests_pause_resume_stop_poweroff_delete(mgmt):
    mgmt.need("userspace")
    assert mgmt.api("POST", "/vms/web/pause", want=(200, 202, 204)) is not None
    assert mgmt.api("GET", "/vms/web")["state"] == "paused"
    r = mgmt.req("POST", "/vms/web/pause", headers=mgmt.auth())
    assert_json_error(r.status_code, r.content, 409)
    mgmt.api("POST", "/vms/web/resume", want=(200, 202, 204))
    assert mgmt.api("GET", "/vms/web")["state"] == "running"
    # stop presses the ACPI power button; busybox's init has no acpid, so
    # the guest carries on: the button's answer only.
    mgmt.api("POST", "/vms/web/stop", want=(200, 202, 204))
    time.sleep(2)
    assert mgmt.api("GET", "/vms/web")["state"] == "running"
    start = len(mgmt.keel.output())
    mgmt.api("POST", "/vms/web/poweroff", want=(200, 202, 204))
    deadline = time.monotonic() + 60
    while mgmt.api("GET", "/vms/web")["state"] != "stopped":
        assert time.monotonic() < deadline, "poweroff did not stop the VM"
        time.sleep(0.5)
    mgmt.keel.wait_for(r"keel: vm web stopped reason=poweroff", 30, start)
    for action in ("stop", "pause", "resume", "poweroff"):
        r = mgmt.req("POST", "/vms/web/" + action, headers=mgmt.auth())
        assert_json_error(r.status_code, r.content, 409)
    mgmt.api("DELETE", "/vms/web", want=(200, 204))
    r = mgmt.req("GET", "/vms/web", headers=mgmt.auth())
    assert_json_error(r.status_code, r.content, 404)
    assert mgmt.host_answers()["vms"] == 0
    mgmt.steps.add("web done")


# -------------------------------------------- a Linux VM through keelctl ----

@needs_agent
def test_keelctl_login_and_host(mgmt):
    r = mgmt.keelctl("--fingerprint", "0" * 64, "host", pin=False)
    assert r.returncode == 3 and "mismatch" in r.stderr, r
    deadline = time.monotonic() + 90
    while True:
        r = mgmt.keelctl("login", "--password-stdin", stdin=PASSWORD + "\n")
        if "HTTP 429" not in r.stderr or time.monotonic() > deadline:
            break
        time.sleep(5)
    assert r.returncode == 0, r.stderr
    conf = mgmt.cfgdir / "keel" / "keelctl.conf"
    assert stat.S_IMODE(os.stat(conf).st_mode) == 0o600
    assert "fingerprint=%s\n" % mgmt.fingerprint in conf.read_text()
    r = run_keelctl(["host"], mgmt.cfgdir)  # host and pin from the config
    assert r.returncode == 0, r.stderr
    assert re.search(r"^cpus +4$", r.stdout, re.M), r.stdout
    assert re.search(r"^virt +svm$", r.stdout, re.M), r.stdout
    info = json.loads(mgmt.keelctl("--json", "host").stdout)
    assert info["cpus"] == 4
    r = mgmt.keelctl("log")
    assert r.returncode == 0 and "keel" in r.stdout
    mgmt.steps.add("keelctl")


@needs_agent
@needs_kernel
def test_keelctl_linux_vm(mgmt):
    """From the admin's shell: upload, create, start, watch, type into,
    power off and delete a Linux VM."""
    mgmt.need("keelctl")
    kernel, initrd = lg.build()
    for name, path in (("ctl-kernel", kernel), ("ctl-initrd", initrd)):
        r = mgmt.keelctl("image-upload", name, path, timeout=600)
        assert r.returncode == 0, r.stderr
        assert sha256_file(path) in r.stdout
    r = mgmt.keelctl("images")
    assert re.search(r"^ctl-kernel +[\d.]+ MiB +%s$" % sha256_file(kernel),
                     r.stdout, re.M), r.stdout
    r = mgmt.keelctl("vm-create", "ctl", "--kernel", "ctl-kernel", "--initrd",
                     "ctl-initrd", "--cmdline", lg.CMDLINE + " keel.msg=from-keelctl",
                     "--cpus", str(lg.CPUS), "--mem", "512")
    assert r.returncode == 0, r.stderr
    assert re.search(r"^state +created$", r.stdout, re.M), r.stdout
    r = mgmt.keelctl("vm-pause", "ctl")
    assert r.returncode == 1 and "HTTP 409" in r.stderr, r
    r = mgmt.keelctl("vm-start", "ctl")
    assert r.returncode == 0, r.stderr
    r = mgmt.keelctl("vms")
    assert re.search(r"^ *\d+ +ctl +running +2 +512 MiB +ctl-kernel$", r.stdout,
                     re.M), r.stdout

    # console --follow until the guest's userspace, as an admin would watch.
    env = dict(os.environ, XDG_CONFIG_HOME=str(mgmt.cfgdir))
    p = subprocess.Popen([KEELCTL, "console", "ctl", "--follow"], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    seen = []
    reader = threading.Thread(target=lambda: seen.extend(iter(lambda: p.stdout.read1(4096), b"")),
                              daemon=True)
    reader.start()
    deadline = time.monotonic() + LINUX_TIMEOUT
    try:
        while b"KEEL-GUEST: shell on ttyS0" not in b"".join(seen):
            assert p.poll() is None, "console --follow ended: %s" % p.stderr.read()
            assert time.monotonic() < deadline, (
                "no userspace in keelctl's console:\n%s" % b"".join(seen)[-3000:])
            time.sleep(0.5)
    finally:
        p.send_signal(2)
        rc = p.wait(10)
    text = b"".join(seen).decode("utf-8", "replace")
    assert lg.USERSPACE in text and "keel.msg=from-keelctl" in text, text[-2000:]
    assert rc == 0, rc

    # Type into the guest's shell over the WebSocket: it computes 6*7.
    r = mgmt.keelctl("console", "ctl")
    offset = len(r.stdout.encode())
    time.sleep(3)  # the shell's prompt after the markers
    r = mgmt.keelctl("send", "ctl", "echo KEELCTL-SAYS-$((6*7))")
    assert r.returncode == 0, r.stderr
    deadline = time.monotonic() + 60
    while True:
        r = mgmt.keelctl("console", "ctl", "--since", str(offset))
        if re.search(r"^KEELCTL-SAYS-42\r?$", r.stdout, re.M):
            break
        assert time.monotonic() < deadline, (
            "the typed command did not run; console since then:\n%s" % r.stdout[-2000:])
        time.sleep(1)

    start = len(mgmt.keel.output())
    r = mgmt.keelctl("vm-poweroff", "ctl")
    assert r.returncode == 0, r.stderr
    mgmt.keel.wait_for(r"keel: vm ctl stopped reason=poweroff", 60, start)
    r = mgmt.keelctl("vm", "ctl")
    assert re.search(r"^state +stopped$", r.stdout, re.M), r.stdout
    assert mgmt.keelctl("vm-delete", "ctl").returncode == 0
    r = mgmt.keelctl("vm", "ctl")
    assert r.returncode == 1 and "HTTP 404" in r.stderr
    for name in ("ctl-kernel", "ctl-initrd"):
        assert mgmt.keelctl("image-delete", name).returncode == 0
    assert "ctl-kernel" not in mgmt.keelctl("images").stdout
    mgmt.steps.add("keelctl vm")


@needs_agent
def test_keelctl_logout_and_keel_carries_on(mgmt):
    mgmt.need("keelctl")
    r = mgmt.keelctl("logout")
    assert r.returncode == 0, r.stderr
    r = mgmt.keelctl("host")
    assert r.returncode == 1 and "HTTP 401" in r.stderr, r
    # The requests session's token is its own and still good.
    if mgmt.token:
        mgmt.host_answers()
    out = mgmt.keel.output()
    assert "KEEL PANIC" not in out, out[-3000:]
