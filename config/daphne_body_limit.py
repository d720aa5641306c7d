"""The body limit of config/body_limit.py, applied while twisted receives a body.

Why here: daphne runs the application only once twisted has received the whole
body (into a temporary file past 100 kB), and then puts all of it into the
application's queue at once (daphne/http_protocol.py, WebRequest.process), so
an ASGI middleware sees the first byte when every byte is in memory: a 400 MiB
POST took daphne from 127 to 541 MB. So a declared length over the limit is
answered with 413 as soon as the headers end, before any of the body is read;
a chunked body as soon as it passes the limit. Nothing more is read from that
connection: the answer goes out, then the write side closes and, a second
later, the socket. Pinned by tests/integration/test_request_body_limit.py.
"""

from urllib.parse import unquote

from daphne.http_protocol import WebRequest
from twisted.web import http

from config.body_limit import STATUS, body_limit, refusal

# Time for the 413 to reach the client before the socket closes (closing with
# unread input sends a reset, which can destroy an answer still in flight).
CLOSE_AFTER_SECONDS = 1.0


def request_path(request) -> str:
    # gotLength comes before twisted gives the request its path; the channel has it.
    target = request.channel._path.split(b"?", 1)[0]
    return unquote(target.decode("ascii", "replace"))


def refuse(request) -> None:
    from twisted.internet import reactor

    request.body_refused = True
    # Else twisted answers "100 Continue" right after our 413.
    request.requestHeaders.removeHeader(b"Expect")
    headers, body = refusal(request.body_limit_path, request.body_limit)
    head = b"".join(b"%s: %s\r\n" % header for header in [*headers, (b"connection", b"close")])
    transport = request.channel.transport
    transport.write(b"HTTP/1.1 %d Content Too Large\r\n%s\r\n%s" % (STATUS, head, body))
    transport.pauseProducing()  # read no more of it
    if hasattr(transport, "loseWriteConnection"):
        transport.loseWriteConnection()
    reactor.callLater(CLOSE_AFTER_SECONDS, transport.abortConnection)


def got_length(self, length):
    self.body_refused = False
    self.body_limit_path = request_path(self)
    self.body_limit = body_limit(self.body_limit_path)
    self.body_received = 0
    if length is not None and length > self.body_limit:
        http.Request.gotLength(self, 0)  # an empty body, never written to
        refuse(self)
        return
    http.Request.gotLength(self, length)


def handle_content_chunk(self, data):
    if self.body_refused:
        return
    self.body_received += len(data)
    if self.body_received > self.body_limit:
        refuse(self)
        return
    http.Request.handleContentChunk(self, data)


_process = WebRequest.process


def process(self):
    # A refused chunked body may still end inside the data twisted is parsing.
    if getattr(self, "body_refused", False):
        return None
    return _process(self)


def install() -> None:
    WebRequest.gotLength = got_length
    WebRequest.handleContentChunk = handle_content_chunk
    WebRequest.process = process
