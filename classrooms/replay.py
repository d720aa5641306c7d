"""Serving recording files with HTTP Range (RFC 9110 §14): a browser's <video>
asks for byte ranges to seek, and a download over a weak link can resume."""

import mimetypes
import re
from pathlib import Path

from django.http import FileResponse, HttpResponse

RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class _Slice:
    """Reads at most `length` bytes of an open file from where it stands."""

    def __init__(self, handle, length: int):
        self.handle, self.left = handle, length

    def read(self, size: int = -1) -> bytes:
        if self.left <= 0:
            return b""
        chunk = self.handle.read(self.left if size < 0 else min(size, self.left))
        self.left -= len(chunk)
        return chunk

    def close(self):
        self.handle.close()


def content_type_of(path: Path) -> str:
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or {".opus": "audio/ogg", ".webm": "video/webm"}.get(path.suffix, "application/octet-stream")


def serve_file(request, path: Path, *, download_name: str, as_attachment: bool):
    """The whole file (200), the one range asked for (206), or 416 for a range past its end.
    A malformed or multi-part Range header is ignored, as RFC 9110 allows."""
    size = path.stat().st_size
    content_type = content_type_of(path)
    match = RANGE.match(request.headers.get("Range", "").strip())
    if match is None or match.groups() == ("", ""):
        response = FileResponse(path.open("rb"), content_type=content_type, as_attachment=as_attachment, filename=download_name)
        response["Accept-Ranges"] = "bytes"
        return response
    first, last = match.groups()
    if first == "":  # the last N bytes
        start, end = max(0, size - int(last)), size - 1
        if int(last) == 0:
            start = size
    else:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
    if start >= size or start > end:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response
    handle = path.open("rb")
    handle.seek(start)
    response = FileResponse(
        _Slice(handle, end - start + 1), status=206, content_type=content_type, as_attachment=as_attachment,
        filename=download_name,
    )
    response["Content-Length"] = str(end - start + 1)
    response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Accept-Ranges"] = "bytes"
    return response
