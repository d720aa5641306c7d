"""What the server encodes itself when forwarding a participant's frames as
they are is not enough: a receiver whose link the adapter stepped down
(signaling.media.quality) gets the picture at its level (smaller, fewer
frames a second, fewer bits) and the voice at AUDIO_BITRATE.

Each source is decoded once (DecodedTrack, shared through a BoundedRelay),
and each level of it is encoded once (LevelStream, fanned out like a
forwarded track by a PacketFanout), so every receiver at that level shares
one encode. DecodedTrack also feeds the transcoding baseline, where each
receiver's sender encodes for itself (bench/calls.py measures the two).
"""

import asyncio
import logging
import multiprocessing
from collections import deque
from fractions import Fraction

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from signaling.media.encoded import EncodedFrame, is_keyframe, voice_encoder
from signaling.media.forward import with_pts
from signaling.media.quality import Level

log = logging.getLogger(__name__)

VIDEO_CLOCK = Fraction(1, 90000)
AUDIO_CLOCK = Fraction(1, 48000)


class DecodedTrack(MediaStreamTrack):
    """A source's encoded frames (a PacketFanout subscription), decoded: VP8
    in the loop's thread pool (about 0.7 ms a frame), Opus in the loop."""

    def __init__(self, encoded: MediaStreamTrack):
        super().__init__()
        self.kind = encoded.kind
        self._encoded = encoded
        if self.kind == "video":
            self._decoder = av.CodecContext.create("vp8", "r")
        else:  # as aiortc's own OpusDecoder: what its OpusEncoder takes
            self._decoder = av.CodecContext.create("libopus", "r")
            self._decoder.format, self._decoder.layout, self._decoder.sample_rate = "s16", "stereo", 48000
        self._ready: deque = deque()

    def _decode(self, frame: EncodedFrame) -> list:
        packet = av.Packet(frame.data)
        packet.pts, packet.time_base = frame.pts, frame.time_base
        try:
            decoded = self._decoder.decode(packet)
        except av.FFmpegError:
            return []  # a damaged frame; the next keyframe mends the picture
        for picture in decoded:
            picture.pts, picture.time_base = frame.pts, frame.time_base
        return decoded

    async def recv(self):
        while not self._ready:
            if self.readyState != "live":
                raise MediaStreamError
            frame = await self._encoded.recv()  # MediaStreamError when the source ends
            if self.kind == "video":
                self._ready.extend(await asyncio.get_running_loop().run_in_executor(None, self._decode, frame))
            else:
                self._ready.extend(self._decode(frame))
        return self._ready.popleft()

    def request_keyframe(self) -> None:
        request = getattr(self._encoded, "request_keyframe", None)
        if request is not None:
            request()

    def stop(self) -> None:
        super().stop()
        self._encoded.stop()


def _vp8_encoder(width: int, height: int, bitrate: int) -> av.VideoCodecContext:
    """libvpx set up as aiortc's own Vp8Encoder sets it (real time, CBR)."""
    codec = av.CodecContext.create("libvpx", "w")
    codec.width, codec.height, codec.pix_fmt = width, height, "yuv420p"
    codec.bit_rate = bitrate
    codec.time_base = VIDEO_CLOCK
    codec.gop_size = 3000  # keyframes when asked for
    codec.qmin, codec.qmax = 2, 56
    codec.options = {
        "bufsize": str(bitrate), "cpu-used": "-6", "deadline": "realtime", "lag-in-frames": "0",
        "minrate": str(bitrate), "maxrate": str(bitrate), "noise-sensitivity": "4", "overshoot-pct": "15",
        "partitions": "0", "static-thresh": "1", "undershoot-pct": "100",
    }
    codec.thread_count = 1 if width * height < 640 * 480 else min(2, multiprocessing.cpu_count())
    return codec


class LevelStream(MediaStreamTrack):
    """One level of a decoded source, encoded once: EncodedFrames for a
    PacketFanout. Video at the level's size, frame rate and bitrate; audio
    (any level below the top) at the server's voice bitrate."""

    def __init__(self, decoded: MediaStreamTrack, level: Level):
        super().__init__()
        self.kind = decoded.kind
        self.level = level
        self._decoded = decoded
        self.codec: av.VideoCodecContext | None = None  # video: made on the first picture
        self._voice = voice_encoder() if self.kind == "audio" else None
        self._keyframe = False
        self._last_sent: float | None = None
        self._ready: deque[EncodedFrame] = deque()
        self.encoded = 0

    def request_keyframe(self) -> None:
        self._keyframe = True
        request = getattr(self._decoded, "request_keyframe", None)
        if request is not None and self.codec is None:
            request()  # nothing decoded yet: the decoder needs one first

    def _shaped(self, frame: av.VideoFrame) -> av.VideoFrame | None:
        level = self.level
        moment = float(frame.pts * frame.time_base)
        if self._last_sent is not None and 0 <= moment - self._last_sent < 1 / level.fps - 0.01:
            return None  # over this level's frame rate: skipped
        self._last_sent = moment
        shaped = frame.reformat(width=level.width, height=level.height, format="yuv420p")
        # The decoded picture is shared by every level and sender: the encoder gets its own.
        return shaped if shaped is not frame else with_pts(frame, frame.pts)

    def _encode_picture(self, frame: av.VideoFrame, keyframe: bool) -> bytes:
        if self.codec is None:
            self.codec = _vp8_encoder(frame.width, frame.height, self.level.bitrate)
        pts = int(frame.pts * frame.time_base / VIDEO_CLOCK)
        frame.pts, frame.time_base = pts, VIDEO_CLOCK
        if keyframe:
            frame.pict_type = av.video.frame.PictureType.I
        return b"".join(bytes(packet) for packet in self.codec.encode(frame))

    async def recv(self) -> EncodedFrame:
        while not self._ready:
            if self.readyState != "live":
                raise MediaStreamError
            frame = await self._decoded.recv()
            if self.kind == "audio":
                payloads, _ = self._voice.encode(frame)
                step = 960  # one 20 ms Opus frame at 48 kHz
                for index, payload in enumerate(payloads):
                    pts = int(frame.pts * frame.time_base / AUDIO_CLOCK) + index * step
                    self._ready.append(EncodedFrame(payload, pts, AUDIO_CLOCK, True))
                continue
            frame = self._shaped(frame)
            if frame is None:
                continue
            keyframe, self._keyframe = self._keyframe, False
            data = await asyncio.get_running_loop().run_in_executor(None, self._encode_picture, frame, keyframe)
            if data:
                self.encoded += 1
                self._ready.append(EncodedFrame(data, frame.pts, VIDEO_CLOCK, is_keyframe("VP8", data)))
        return self._ready.popleft()

    def stop(self) -> None:
        super().stop()
        self._decoded.stop()
