"""Weak links: what the server sends each participant follows their link.

Every second the room's router reads, for each participant, the loss their
browser reports on what the server sends them (RTCP receiver reports) and the
bandwidth their browser estimates (REMB). A LinkAdapter turns that into a
level: smaller pictures at lower frame rates and bitrates, and at the bottom
audio only. It steps down after DOWN_AFTER seconds of a bad link and steps back
up only after a longer good spell (UP_AFTER, doubled after each step up that
did not hold), so a link on the edge does not flap.
"""

import time
from collections import deque
from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class Level:
    name: str
    width: int = 0  # 0: audio only
    height: int = 0
    fps: float = 0
    bitrate: int = 0  # bits per second the picture needs at this level

    @property
    def video(self) -> bool:
        return self.width > 0


AUDIO_ONLY = Level("audio")


def call_levels(max_bitrate: int | None = None) -> tuple[Level, ...]:
    """A call's levels: the server re-encodes what it sends, so the picture
    can shrink step by step."""
    cap = max_bitrate or settings.VIDEO_MAX_BITRATE
    return (
        Level("high", 320, 240, 15, cap),
        Level("medium", 240, 180, 10, min(cap, 150_000)),
        Level("low", 160, 120, 7, min(cap, 70_000)),
        AUDIO_ONLY,
    )


# A broadcast forwards the presenter's frames as they are: an audience member
# has them all or none (low-data mode: sound and still pictures).
BROADCAST_LEVELS = (Level("high", 320, 240, 15, 250_000), AUDIO_ONLY)

BAD_LOSS = 0.10
GOOD_LOSS = 0.02
DOWN_AFTER = 2.0
# A receiver's estimate dips for a second or two when the sender's event loop
# stalls (a busy machine sends in bursts that read as queueing); a link that is
# really too thin holds it down longer, and loses packets too.
BANDWIDTH_DOWN_AFTER = 4.0
UP_AFTER = 8.0
MAX_UP_AFTER = 60.0
HELD_AFTER = 20.0  # a step up that lasted this long held: the wait goes back to UP_AFTER
# Browsers report on audio only every 5 s or so (libwebrtc: 5 s for audio, 1 s for
# video, each randomized by half): until the next report, the last one stands.
REPORT_KEPT = 8.0
# After a step up the browser's estimate has to climb to the bigger picture
# (libwebrtc: about 8% a second, from where it stood while no video or a smaller
# picture came, slower on a busy machine): meanwhile only loss counts.
ESTIMATE_GRACE = 12.0
# What was sent binds the estimate when it came near it: the mean of the last
# few seconds, since an encoder that follows the estimate sends in bursts (each
# change of its target reopens it with a keyframe). An easy picture needs little
# and its estimate runs well above it (a browser's: 1.5 times what arrives).
BINDING_SECONDS = 3
BINDING_SHARE = 0.6


class LinkAdapter:
    def __init__(self, levels: tuple[Level, ...], *, clock=time.monotonic):
        self.levels = levels
        self.index = 0
        self.clock = clock
        self.reason = ""
        self._bad_since: float | None = None
        self._good_since: float | None = None
        self._up_after = UP_AFTER
        self._stepped_up_at: float | None = None
        self._report: tuple[float, float] | None = None  # (when, loss) of the last fresh report at this level
        self._sent: deque[int] = deque(maxlen=BINDING_SECONDS)  # bit/s sent in the last seconds at this level

    @property
    def level(self) -> Level:
        return self.levels[self.index]

    def observe(self, loss: float | None, estimate: int | None, sent: int | None = None) -> Level | None:
        """One second's figures (loss 0..1, the browser's estimate and what
        was sent, in bit/s; None when unknown); the new level when it changes.

        A receiver's estimate never runs far above what it receives (an easy
        picture needs little), so it only counts as too slow while it binds:
        while the server sends about as much as the estimate allows."""
        now = self.clock()
        if loss is not None:
            self._report = (now, loss)
        elif self._report is not None and now - self._report[0] < REPORT_KEPT:
            loss = self._report[1]  # no news this second: the last report still holds
        level = self.level
        if sent is not None:
            self._sent.append(sent)
        binding = estimate is not None and bool(self._sent) and sum(self._sent) / len(self._sent) >= estimate * BINDING_SHARE
        climbing = self._stepped_up_at is not None and now - self._stepped_up_at < ESTIMATE_GRACE
        too_slow = level.video and binding and estimate < level.bitrate * 0.7 and not climbing
        lossy = loss is not None and loss >= BAD_LOSS
        if lossy or too_slow:
            self._good_since = None
            self._bad_since = self._bad_since if self._bad_since is not None else now
            if now - self._bad_since >= (DOWN_AFTER if lossy else BANDWIDTH_DOWN_AFTER) and self.index < len(self.levels) - 1:
                if self._stepped_up_at is not None and now - self._stepped_up_at < HELD_AFTER:
                    self._up_after = min(self._up_after * 2, MAX_UP_AFTER)  # that step up did not hold
                self._stepped_up_at = None
                self.reason = "loss" if lossy else "bandwidth"
                return self._move(+1, now)
            return None
        self._bad_since = None
        if self._stepped_up_at is not None and now - self._stepped_up_at >= HELD_AFTER:
            self._up_after, self._stepped_up_at = UP_AFTER, None
        if self.index == 0 or loss is None or loss > GOOD_LOSS:
            self._good_since = None
            return None
        upper = self.levels[self.index - 1]
        if level.video and binding and estimate < upper.bitrate * 1.2:
            self._good_since = None  # the browser does not think the bigger picture would fit
            return None
        self._good_since = self._good_since if self._good_since is not None else now
        # Long enough, with a report since the spell began: one old report does not vouch for a silent link.
        if now - self._good_since >= self._up_after and self._report is not None and self._report[0] > self._good_since:
            self._stepped_up_at = now
            self.reason = "recovered"
            return self._move(-1, now)
        return None

    def _move(self, step: int, now: float) -> Level:
        self.index += step
        self._bad_since = self._good_since = None
        self._report = None  # it told of the level before
        self._sent.clear()
        return self.level
