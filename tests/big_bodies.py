"""A client that streams a large request body over a raw socket and stops as
soon as the server answers, as a careful HTTP client does with an early 413;
and a reader of a process's resident memory."""

import select
import socket
from collections.abc import Iterator
from pathlib import Path

MiB = 1024 * 1024


def zeros(total: int, chunk: int = 256 * 1024) -> Iterator[bytes]:
    block = b"\0" * chunk
    sent = 0
    while sent < total:
        piece = block[: min(chunk, total - sent)]
        sent += len(piece)
        yield piece


def post_streamed(host: str, port: int, path: str, body: Iterator[bytes], *, length: int | None, timeout: float = 120) -> tuple[int, bytes, int]:
    """POST `body` with Content-Length `length`, or chunked when it is None.
    Returns the answer's status, its raw bytes and how many body bytes went out."""
    framing = f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked"
    head = f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/octet-stream\r\n{framing}\r\n\r\n"
    sent = 0
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(head.encode())
        try:
            for piece in body:
                if select.select([sock], [], [], 0)[0]:
                    break  # the server has answered: stop sending
                sock.sendall(piece if length is not None else b"%x\r\n%s\r\n" % (len(piece), piece))
                sent += len(piece)
            else:
                if length is None:
                    sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # closed while we were sending; its answer may still be in our buffer
        answer = b""
        try:
            while b"\r\n\r\n" not in answer:
                data = sock.recv(65536)
                if not data:
                    break
                answer += data
        except (ConnectionResetError, TimeoutError):
            pass
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else 0
    return status, answer, sent


def resident_kib(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


def reset_peak(pid: int) -> None:
    """Start VmHWM (the peak) over from the current size (Linux 4.0 and later)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")
