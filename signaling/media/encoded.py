"""The one place that reaches into aiortc's internals for forwarding encoded media
(aiortc 1.16.0; tests/signaling/test_media_hooks.py fails loudly if an upgrade
moves any of this).

- Receiving: aiortc decodes every complete frame in a thread started by
  `RTCRtpReceiver.receive()` with the module-level `decoder_worker`, looked up
  when the thread starts. `decoder_worker` is replaced by a dispatcher: a track
  marked with `receive_encoded(track)` gets each frame as an `EncodedFrame`
  (pts in the codec's clock, keyframes marked) instead of decoded frames; every
  other track is decoded as before.
- Sending: an `RTCRtpSender` whose track returns anything but an `av.Frame`
  only packetizes it (`_next_encoded_frame` calls the codec's `pack()`, which
  reads `bytes(frame)`, `frame.pts` and `frame.time_base`). Keyframe requests
  (PLI/FIR) from the receiving browser call the sender's `_send_keyframe()`,
  whose flag only the encoding path reads; `on_keyframe_request` hooks it.
- Asking the publisher for a keyframe: `RTCRtpReceiver._send_rtcp_pli`.
- Bandwidth: REMB reaches `RTCRtpSender._handle_rtcp_packet`, which does
  nothing with it but set the sender's private encoder's `target_bitrate`.
  aiortc's VP8 and H264 encoders clamp that setter to at least 250 kbit/s, and
  their CBR spends it. SenderControl takes REMB there instead (the estimate is
  for signaling.media.quality, which steps the level on it) and writes its cap
  to the encoder's private `__target_bitrate`, which `encode()` reads (reopening
  the codec, with a keyframe, when it moved by over 10%).
- The voice's bitrate: a sender makes its encoder with the `get_encoder` its
  module imported, on the first frame; aiortc's Opus encoder is set to 96 kbit/s,
  which libopus reads (with its options) when it opens on its first frame.
  `set_voice_bitrate` wraps that lookup so that the server's Opus encoders use less.
"""

import asyncio
import logging
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

from aiortc import RTCRtpReceiver, RTCRtpSender
from aiortc import rtcrtpreceiver, rtcrtpsender
from aiortc.codecs.opus import OpusEncoder
from aiortc.rtp import RTCP_PSFB_APP, RtcpPsfbPacket, unpack_remb_fci

log = logging.getLogger(__name__)

_decoding_worker = rtcrtpreceiver.decoder_worker
_encoded_queues: "weakref.WeakSet[asyncio.Queue]" = weakref.WeakSet()


@dataclass(frozen=True, slots=True)
class EncodedFrame:
    data: bytes
    pts: int
    time_base: Fraction
    is_keyframe: bool

    def __bytes__(self) -> bytes:
        return self.data


def is_keyframe(codec_name: str, data: bytes) -> bool:
    if not data:
        return False
    if codec_name == "VP8":  # RFC 6386 9.1: bit 0 of the frame tag is 0 on a key frame
        return data[0] & 0x01 == 0
    if codec_name == "H264":  # an IDR slice anywhere in the Annex B access unit
        return b"\x00\x00\x01\x65" in data or b"\x00\x00\x01\x25" in data or b"\x00\x00\x01\x45" in data
    return True  # audio: every frame stands alone


def _encoded_worker(loop, input_q, output_q, decode_error) -> None:
    while True:
        task = input_q.get()
        if task is None:
            asyncio.run_coroutine_threadsafe(output_q.put(None), loop)
            return
        codec, frame = task
        # frame.timestamp was unwrapped by the receiver's TimestampMapper, from 0.
        encoded = EncodedFrame(frame.data, frame.timestamp, Fraction(1, codec.clockRate), is_keyframe(codec.name, frame.data))
        asyncio.run_coroutine_threadsafe(output_q.put(encoded), loop)


def _dispatching_worker(loop, input_q, output_q, decode_error) -> None:
    worker = _encoded_worker if output_q in _encoded_queues else _decoding_worker
    worker(loop, input_q, output_q, decode_error)


rtcrtpreceiver.decoder_worker = _dispatching_worker

_get_encoder = rtcrtpsender.get_encoder
_voice_bitrate: int | None = None


def _at_voice_bitrate(encoder: OpusEncoder) -> OpusEncoder:
    if _voice_bitrate is not None:
        # libopus has not opened yet (it does on the first frame). Constrained VBR:
        # plain VBR spends half as much again on a steady tone.
        encoder.codec.bit_rate = _voice_bitrate
        encoder.codec.options = {**encoder.codec.options, "vbr": "constrained"}
    return encoder


def _encoder_for(codec):
    encoder = _get_encoder(codec)
    return _at_voice_bitrate(encoder) if isinstance(encoder, OpusEncoder) else encoder


def voice_encoder() -> OpusEncoder:
    """An Opus encoder of the server's own, at the voice bitrate (set_voice_bitrate)."""
    return _at_voice_bitrate(OpusEncoder())


def set_voice_bitrate(bitrate: int | None) -> None:
    """The bitrate (bit/s) of every Opus encoder the server's senders make from
    now on; None: aiortc's own 96 kbit/s, more than a weak mobile link carries
    for the voice alone."""
    global _voice_bitrate
    _voice_bitrate = bitrate
    rtcrtpsender.get_encoder = _encoder_for


def receive_encoded(track) -> None:
    """The remote track gives `av.Packet`s instead of decoded frames. Call it
    from the peer connection's "track" event: before the receiver starts."""
    _encoded_queues.add(track._queue)


def on_keyframe_request(sender: RTCRtpSender, callback: Callable[[], None]) -> None:
    """`callback` runs whenever the browser this sender sends to asks for a
    keyframe (PLI or FIR); the sender still sets its own flag too."""
    own = sender._send_keyframe

    def send_keyframe() -> None:
        own()
        callback()

    sender._send_keyframe = send_keyframe


async def request_keyframe(receiver: RTCRtpReceiver) -> bool:
    """Ask the publisher behind `receiver` for a keyframe (RTCP PLI). False
    while nothing has been received yet (no SSRC to address)."""
    sources = receiver.getSynchronizationSources()
    if not sources:
        return False
    for source in sources:
        await receiver._send_rtcp_pli(source.source)
    return True


def keep_only_codecs(pc, names: dict[str, str]) -> None:
    """Between setRemoteDescription and createAnswer: answer each transceiver
    with only the named codec of its kind (and its RTX), so that every peer of
    a room speaks the codec the forwarded frames are in. ValueError when the
    offer does not include it."""
    for transceiver in pc.getTransceivers():
        wanted = names.get(transceiver.kind, "").lower()
        codecs = transceiver._codecs
        primary = {c.payloadType for c in codecs if c.name.lower() == wanted}
        if not primary:
            raise ValueError(f"the offer's {transceiver.kind} has no {names.get(transceiver.kind)}")
        transceiver._codecs = [
            c for c in codecs if c.payloadType in primary or (c.name.lower() == "rtx" and c.parameters.get("apt") in primary)
        ]


class SenderControl:
    """A sender's bandwidth: the estimate the receiving browser reports (REMB),
    and the cap on the encoder's bitrate, which changes with the level only.
    Following each REMB would reopen the codec with a keyframe at every change,
    into the very link that is short, and hold the sender to an estimate that is
    still climbing from its start (aiortc's grows 8% a second from what arrives)."""

    def __init__(self, sender: RTCRtpSender):
        self.sender = sender
        self.cap: int | None = None
        self.estimate: int | None = None
        self._sent: tuple[float, int] | None = None  # (when, bytes sent) at the last look
        own = sender._handle_rtcp_packet

        async def handle_rtcp_packet(packet) -> None:
            if not (isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_APP):
                await own(packet)
                return
            # aiortc would only set the encoder's bitrate to the estimate, clamped to
            # 250 kbit/s or more.
            try:
                bitrate, ssrcs = unpack_remb_fci(packet.fci)
            except ValueError:
                return
            if sender._ssrc in ssrcs:
                self.estimate = bitrate

        sender._handle_rtcp_packet = handle_rtcp_packet

    async def sent_rate(self) -> int | None:
        """Bits per second sent since the last call (None the first time)."""
        now = time.monotonic()
        sent = next((s.bytesSent for s in (await self.sender.getStats()).values() if s.type == "outbound-rtp"), None)
        previous, self._sent = self._sent, (now, sent) if sent is not None else None
        if previous is None or sent is None or now <= previous[0]:
            return None
        return int((sent - previous[1]) * 8 / (now - previous[0]))

    def forget_estimate(self) -> None:
        """The estimate told of a link that carried no video (audio only): it
        does not count until the browser reports on the video again."""
        self.estimate = None

    def set_cap(self, bitrate: int | None) -> None:
        self.cap = bitrate
        self.apply()

    def apply(self) -> None:
        encoder = getattr(self.sender, "_RTCRtpSender__encoder", None)
        if self.cap is None or encoder is None or not hasattr(encoder, "target_bitrate"):
            return
        set_target_bitrate(encoder, self.cap)


MIN_VIDEO_BITRATE = 30_000  # below this even 160x120 at 7 fps is mush


def set_target_bitrate(encoder, bitrate: int) -> None:
    """An aiortc video encoder's bitrate, below its own 250 kbit/s floor if need be."""
    private = f"_{type(encoder).__name__}__target_bitrate"
    if hasattr(encoder, private):
        setattr(encoder, private, max(MIN_VIDEO_BITRATE, min(bitrate, 1_500_000)))
    else:
        encoder.target_bitrate = bitrate
