"""A weak mobile link on loopback: a UDP relay between one aiortc client and
the server's peer that loses, delays and rate-limits what passes, changeable
while a call runs. Used by tests/signaling/test_weak_links.py and
bench/weak_links.py.

The client is pointed at the relay by rewriting the server's candidates in the
answer (`through`), and its own candidates are removed from the offer
(`without_candidates`), so the only path between them is the relay.
"""

import asyncio
import random
import re
import time
from dataclasses import dataclass


@dataclass
class Shape:
    loss: float = 0.0  # fraction of packets dropped
    rate: int = 0  # bit/s; 0: unlimited
    delay: float = 0.0  # seconds, one way
    queue: float = 0.2  # seconds of data a rate-limited link buffers before dropping


class _Direction:
    def __init__(self, relay: "LossyRelay"):
        self.shape = Shape()
        self.relay = relay
        self.busy_until = 0.0  # when the rate-limited link is free again
        self.passed = self.dropped = 0

    def admit(self, size: int) -> float | None:
        """When to deliver a packet of `size` bytes, or None to drop it."""
        shape = self.shape
        if shape.loss and self.relay.random.random() < shape.loss:
            self.dropped += 1
            return None
        now = time.monotonic()
        if shape.rate:
            start = max(now, self.busy_until)
            if start - now > shape.queue:
                self.dropped += 1
                return None
            self.busy_until = start + size * 8 / shape.rate
            now = self.busy_until
        self.passed += 1
        return now + shape.delay


class LossyRelay:
    def __init__(self, seed: int = 7):
        self.random = random.Random(seed)
        self.down = _Direction(self)  # server -> client
        self.up = _Direction(self)  # client -> server
        self.server: tuple[str, int] | None = None
        self.client: tuple[str, int] | None = None
        self._front = None  # faces the client
        self._back = None  # faces the server
        self.port = 0

    async def start(self) -> "LossyRelay":
        loop = asyncio.get_running_loop()
        relay = self

        class Front(asyncio.DatagramProtocol):
            def datagram_received(self, data, addr):
                relay.client = addr
                if relay.server is not None:
                    relay._forward(relay.up, relay._back, data, relay.server)

        class Back(asyncio.DatagramProtocol):
            def datagram_received(self, data, addr):
                if relay.client is not None:
                    relay._forward(relay.down, relay._front, data, relay.client)

        self._front, _ = await loop.create_datagram_endpoint(Front, local_addr=("127.0.0.1", 0))
        self._back, _ = await loop.create_datagram_endpoint(Back, local_addr=("127.0.0.1", 0))
        self.port = self._front.get_extra_info("sockname")[1]
        return self

    def _forward(self, direction: _Direction, transport, data: bytes, addr) -> None:
        at = direction.admit(len(data) + 28)  # IP and UDP headers count against the rate
        if at is None:
            return
        wait = at - time.monotonic()
        if wait <= 0.001:
            transport.sendto(data, addr)
        else:
            asyncio.get_running_loop().call_later(wait, transport.sendto, data, addr)

    def shape(self, *, down: Shape | None = None, up: Shape | None = None) -> None:
        if down is not None:
            self.down.shape = down
        if up is not None:
            self.up.shape = up

    def through(self, answer_sdp: str) -> str:
        """The server's answer with its candidates moved to the relay; the
        relay forwards to the server's UDP candidate."""
        candidates = re.findall(r"a=candidate:\S+ 1 udp \d+ (127\.0\.0\.1) (\d+) typ host", answer_sdp)
        if not candidates:
            raise ValueError("the answer has no loopback UDP host candidate")
        self.server = (candidates[0][0], int(candidates[0][1]))
        return re.sub(r"(a=candidate:\S+ \d udp \d+ 127\.0\.0\.1 )\d+( typ host)", rf"\g<1>{self.port}\g<2>", answer_sdp)

    def close(self) -> None:
        for transport in (self._front, self._back):
            if transport is not None:
                transport.close()


def without_candidates(offer_sdp: str) -> str:
    """The offer with no candidates and no end-of-candidates (aiortc answers
    an offer that ends its candidates with none without gathering its own):
    the server learns the relay's address from its connectivity checks."""
    return "".join(line for line in offer_sdp.splitlines(keepends=True)
                   if not line.startswith(("a=candidate:", "a=end-of-candidates")))
