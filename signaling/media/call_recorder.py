"""Records a call to a WebM file (signaling.media.recording): the picture of
one side (PICTURE_SIDE) as its encoded frames arrive, and one Opus track
mixing both sides' voices. In a consultation that is the station's picture
(the patient) and the doctor's and station's voices.

One mixed audio track rather than one per voice: players play a file's first
audio track only, so a second track would leave one side silent. The other
side's picture is left out: a second video track plays nowhere either, and
composing both pictures would cost a decode, a scale, a paste and an encode
per frame for little use in the record.

Timestamps run on the server's clock since the recording started (the
participants' own start at random values and stop while someone reconnects),
so the file keeps the call's real duration; while the pictured side sends no
picture, players hold its last one.
"""

import logging
from pathlib import Path

from signaling.media.recording import EncodedRecorder, RecordingInfo

log = logging.getLogger(__name__)

# The sides as telecare names them (on the wire too): whose picture is
# recorded, whose voices, and who may stop it.
PICTURE_SIDE, VOICE_SIDES, CONTROLLING_SIDE = "station", ("doctor", "station"), "doctor"


class CallRecorder(EncodedRecorder):
    """A call router's recorder (router.recorder): the router calls
    rewire() whenever its wiring changes, so the recording follows a
    participant who reconnects. start(), then stop() once."""

    VOICES = VOICE_SIDES

    def __init__(self, router, path: Path, *, on_finished=None):
        super().__init__(router, path)
        self.on_finished = on_finished  # async (RecordingInfo, by) once the file is complete
        self.started_by: str | None = None  # the participant id of whoever started it
        self._started = self._stopped = False

    def _latest(self, side: str):
        peers = [p for p in self.router.participants.values() if p.side == side]
        return peers[-1] if peers else None  # dicts keep join order: the latest

    def _wanted(self):
        pictured = self._latest(PICTURE_SIDE)
        voices = {}
        for side in VOICE_SIDES:
            peer = self._latest(side)
            voices[side] = peer.incoming.get("audio") if peer else None
        return (pictured.incoming.get("video") if pictured else None), voices

    def _subscribe(self, name: str, origin):
        return self.router.subscribe(origin)

    def rewire(self) -> None:
        if self._started and not self._stopped:
            super().rewire()

    @property
    def orphaned(self) -> bool:
        """Nobody who may stop the recording is left in the room."""
        return not any(p.side == CONTROLLING_SIDE for p in self.router.participants.values())

    async def start(self) -> None:
        self._started = True
        self._start_clock()
        self.rewire()

    async def stop(self, by=None) -> RecordingInfo | None:
        """Finish the file (nothing written is lost) and hand it to on_finished
        with `by`, who stopped it (None: the call ended or CONTROLLING_SIDE left)."""
        if self._stopped:
            return None
        self._stopped = True
        ended, duration = await self._finish()
        info = RecordingInfo(
            path=self.path, audio_path=None, started_at=self._wall0, ended_at=ended,
            duration_seconds=duration, size_bytes=self.path.stat().st_size,
        )
        log.info("recorded %s: %.1f s, %d pictures", self.path, duration, self.video_frames)
        if self.on_finished is not None:
            await self.on_finished(info, by)
        return info
