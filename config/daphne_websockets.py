"""daphne's WebSockets close with a close frame when a client breaks a limit.

autobahn, under daphne, fails a connection "by drop" by default: a message
past --websocket-max-message-size cuts the TCP connection, and the page sees
1006 (abnormal) instead of the 1009 that docs/signaling.md promises, so it
cannot tell "too large" from a network failure. Without drop, autobahn sends
the close frame with its code first. Pinned by
tests/integration/test_call_through_daphne.py (the oversized message).
"""

from daphne.ws_protocol import WebSocketFactory


def install() -> None:
    if getattr(WebSocketFactory, "closes_with_a_frame", False):
        return
    reset = WebSocketFactory.resetProtocolOptions

    def reset_with_close_frames(self):
        reset(self)
        self.failByDrop = False

    WebSocketFactory.resetProtocolOptions = reset_with_close_frames
    WebSocketFactory.closes_with_a_frame = True
