"""coturn as a real process on 127.0.0.1, started with bin/turn (the development
command) on free ports and a secret of the test's own, stopped at the end."""

import os
import random
import secrets
import shutil
import socket
import struct
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts"
HOST = "127.0.0.1"
STARTUP_SECONDS = 15
RELAY_PORTS = 40


@dataclass
class TurnServer:
    host: str
    port: int
    tls_port: int
    secret: str
    certificate: Path  # self-signed, for 127.0.0.1: a TLS client's CA
    process: subprocess.Popen
    log: Path

    def url(self, transport: str = "udp") -> str:
        if transport == "tls":
            return f"turns:{self.host}:{self.tls_port}?transport=tcp"
        return f"turn:{self.host}:{self.port}?transport={transport}"

    @property
    def urls(self) -> list[str]:
        """What TURN_URLS would say: UDP first (aiortc takes the first TURN URL), then TCP and TLS."""
        return [self.url("udp"), self.url("tcp"), self.url("tls")]

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _free(port: int, kind: int) -> bool:
    with socket.socket(socket.AF_INET, kind) as sock:
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    """A port free for both UDP and TCP (coturn listens on both)."""
    while True:
        with socket.socket() as sock:
            sock.bind((HOST, 0))
            port = sock.getsockname()[1]
        if _free(port, socket.SOCK_DGRAM):
            return port


def _free_relay_range() -> tuple[int, int]:
    while True:
        low = random.randrange(41000, 59000, RELAY_PORTS)
        if all(_free(p, socket.SOCK_DGRAM) and _free(p, socket.SOCK_STREAM) for p in range(low, low + RELAY_PORTS)):
            return low, low + RELAY_PORTS - 1


def _answers_stun(port: int) -> bool:
    """A STUN Binding request over UDP gets a response (RFC 5389: type 0x0101)."""
    request = struct.pack("!HHI12s", 0x0001, 0, 0x2112A442, secrets.token_bytes(12))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.2)
        try:
            sock.sendto(request, (HOST, port))
            data = sock.recv(2048)
        except OSError:
            return False
    return len(data) >= 20 and struct.unpack("!H", data[:2])[0] == 0x0101 and data[8:20] == request[8:20]


def _accepts_tcp(port: int) -> bool:
    try:
        socket.create_connection((HOST, port), timeout=0.2).close()
        return True
    except OSError:
        return False


def spawn_turn_server(var_dir: Path, log: Path) -> TurnServer:
    port, tls_port = _free_port(), _free_port()
    low, high = _free_relay_range()
    secret = secrets.token_urlsafe(24)
    env = {**os.environ, "TURN_SECRET": secret, "TURN_PORT": str(port), "TURN_TLS_PORT": str(tls_port),
           "TURN_RELAY_PORTS": f"{low}-{high}", "TURN_LISTEN_IP": HOST, "VAR_DIR": str(var_dir)}
    with log.open("w") as out:
        process = subprocess.Popen([str(ROOT / "bin/turn")], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = TurnServer(HOST, port, tls_port, secret, var_dir / "turn" / "cert.pem", process, log)
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"bin/turn exited with {process.returncode}:\n{server.log_tail()}")
        if _answers_stun(port) and _accepts_tcp(port) and _accepts_tcp(tls_port):
            return server
        time.sleep(0.1)
    server.stop()
    pytest.fail(f"coturn did not answer on {HOST}:{port} within {STARTUP_SECONDS} s:\n{server.log_tail()}")


@pytest.fixture(scope="module")
def turn_server(tmp_path_factory, request):
    """coturn on loopback for this module's tests; skipped only where Debian's
    coturn is not installed (bin/setup --dev installs it, so CI runs these)."""
    if shutil.which("turnserver") is None:
        pytest.skip("turnserver is missing (bin/setup --dev installs Debian's coturn)")
    ARTIFACTS.mkdir(exist_ok=True)
    name = request.module.__name__.rsplit(".", 1)[-1]
    server = spawn_turn_server(tmp_path_factory.mktemp("turn-var"), ARTIFACTS / f"turnserver-{name}.log")
    yield server
    server.stop()
