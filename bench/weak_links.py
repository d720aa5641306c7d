"""Weak links (docs/signaling.md, "Weak links"): what a station gets through a
lossy or thin downlink, and how fast the server steps down and back up.

    .venv/bin/python bench/weak_links.py [--repeats 3] [--conditions loss:0,loss:5,rate:300]
                                         [--warmup 4] [--settle 14] [--window 10] [--recovery 75]

Every run starts three fresh processes, all on 127.0.0.1, and kills them at
its end (they also die with this script, Ctrl-C or not):

- the media process: one PairMediaRouter (a consultation), as daphne holds
  it; offers reach it as JSON lines over a TCP socket on loopback. It reports
  every level it picks for each participant (signaling.media.quality), with
  the time on time.monotonic(), the clock every process shares;
- the doctor: an aiortc peer sending a 320x240 picture at 15 fps that
  scrolls a texture (so that the server's encoder spends what a camera needs,
  about 300 kbit/s at the top level, and a rate cap binds) and a 440 Hz tone;
- the station: an aiortc peer sending a flat picture and the tone, whose
  downlink (server to station) goes through tests/signaling/lossy_relay.py,
  run in the station's process. It notes every decoded video frame (time,
  size) and every 20 ms audio frame (time, timestamp).

A run: the call comes up on a clean link; after --warmup seconds the relay
starts losing that share of the packets (loss:N, random) or limits the
downlink to N kbit/s with 200 ms of queue (rate:N); after --settle seconds
more, figures are taken over a --window; then the link is clean again and
the run waits (at most --recovery seconds) for the server's level to get back
to high. Per condition, the medians over --repeats runs:

- video: frames a second the station's aiortc peer decoded over the window;
  "intact": frames a second whose every packet came through the first time
  (read from the RTP headers the relay passes on, which SRTP leaves in the
  clear), what a browser could show without waiting for retransmissions;
  the picture's size (the median decoded frame's), the video's kbit/s and
  that of its retransmissions (RTX, "resent"). aiortc's receiver asks for no
  keyframe after heavy loss until its jitter buffer overflows; the station asks
  for one after a second without a picture, as a browser does, but "intact" is
  still the better guide to what a browser shows;
- audio: the share of the window's 20 ms packets that reached the station,
  and the longest stretch of the sender's timeline with none (RTP
  timestamps); "aiortc decoded": the share of 20 ms frames aiortc's own
  receiver made of them (its jitter buffer drops more than the link loses:
  a browser conceals losses instead);
- link loss: the share of the downlink's packets the relay dropped in the window;
- level: where the server stood at the window's end (how many times it
  changed during the window, if it did); the first step down and the step to
  audio only, in seconds after the link went bad; the step back to high, in
  seconds after it was clean again, over the runs that stepped down ("-": no
  such step in most runs; ">N": not within N s). Of an even number of runs,
  the lower middle.

The machine's busy cores over each run are printed too: other programs on the
same cores slow aiortc's event loops, and a slow loop looks like a weak link.
A note says when the doctor's clean link was stepped too: the station sends a
flat picture, which needs little, and a receiver's estimate that fell (a busy
loop) can then bind and read as too slow.
"""

import argparse
import asyncio
import ctypes
import json
import logging
import math
import multiprocessing
import os
import queue
import re
import signal
import statistics
import sys
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
# bench/ holds booking.py, named like the booking app: its folder must not shadow the app.
sys.path = [p for p in sys.path if Path(p or ".").resolve() != BENCH_DIR]
sys.path.insert(0, str(ROOT))

import av  # noqa: E402
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription  # noqa: E402
from aiortc.mediastreams import MediaStreamError, VideoStreamTrack  # noqa: E402

from signaling.media.aioice_hooks import restrict_host_addresses  # noqa: E402
from tests.signaling.call_client import SyntheticCamera, SyntheticMicrophone  # noqa: E402
from tests.signaling.lossy_relay import LossyRelay, Shape, without_candidates  # noqa: E402

CONDITIONS = "loss:0,loss:5,loss:10,loss:20,rate:1000,rate:300,rate:100,rate:50"
FPS = 15
AUDIO_FRAME = 0.02  # seconds: Opus frames of 20 ms
WIDTH, HEIGHT = 320, 240
VIDEO_RATE = 90000
SETUP_TIMEOUT = 60.0  # processes started to video at both ends, on busy cores
REPORT_TIMEOUT = 15.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
LEVELS = ("high", "medium", "low", "audio")


@dataclass(frozen=True)
class Condition:
    kind: str  # "loss" (percent of packets) or "rate" (kbit/s)
    value: int

    @classmethod
    def parse(cls, text: str) -> "Condition":
        kind, _, value = text.partition(":")
        if kind not in ("loss", "rate") or not value.isdigit():
            raise argparse.ArgumentTypeError(f"{text!r}: give loss:<percent> or rate:<kbit/s>")
        return cls(kind, int(value))

    @property
    def shape(self) -> Shape:
        return Shape(loss=self.value / 100) if self.kind == "loss" else Shape(rate=self.value * 1000)

    def __str__(self) -> str:
        return f"loss {self.value}%" if self.kind == "loss" else f"{self.value} kbit/s"


# The doctor's camera: a texture scrolled across the picture.

def _texture() -> bytes:
    """Twice the picture's width of 8x8 tiles in pseudo-random shades."""
    width = 2 * WIDTH
    return b"".join(
        bytes((((x // 8) * 37 + (y // 8) * 91) * 2654435761 >> 7) % 200 + 28 for x in range(width))
        for y in range(HEIGHT)
    )


class ScrollingCamera(VideoStreamTrack):
    """320x240 at 15 fps, moving 3 pixels a frame: motion the encoder must code."""

    def __init__(self):
        super().__init__()
        self.texture = _texture()
        self.chroma = bytes([128]) * (WIDTH * HEIGHT // 4)
        self._start: float | None = None
        self._count = 0

    async def recv(self) -> av.VideoFrame:
        if self._start is None:
            self._start = time.monotonic()
        self._count += 1
        await asyncio.sleep(max(0.0, self._start + self._count / FPS - time.monotonic()))
        shift = (self._count * 3) % WIDTH
        luma = b"".join(self.texture[y * 2 * WIDTH + shift:y * 2 * WIDTH + shift + WIDTH] for y in range(HEIGHT))
        frame = av.VideoFrame(WIDTH, HEIGHT, "yuv420p")
        frame.planes[0].update(luma)
        frame.planes[1].update(self.chroma)
        frame.planes[2].update(self.chroma)
        frame.pts = self._count * VIDEO_RATE // FPS
        frame.time_base = Fraction(1, VIDEO_RATE)
        return frame


# The loopback channel that carries offers and answers.

async def exchange(port: int, participant_id: str, sdp: str) -> str:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
    try:
        writer.write(json.dumps({"id": participant_id, "sdp": sdp}).encode() + b"\n")
        await writer.drain()
        reply = json.loads(await reader.readline())
    finally:
        writer.close()
    if "error" in reply:
        raise RuntimeError(reply["error"])
    return reply["sdp"]


# The processes.

def child_setup():
    """Every child: die with the parent, leave Ctrl-C to it, ICE on loopback only."""
    parent = os.getppid()
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:
        os._exit(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    restrict_host_addresses(["127.0.0.1"])
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("aioice").setLevel(logging.ERROR)


async def sleep_until(moment: float):
    # asyncio's clock and time.monotonic() are the same clock, shared by all processes.
    await asyncio.sleep(max(0.0, moment - time.monotonic()))


async def next_command(commands, timeout: float):
    try:
        return await asyncio.to_thread(commands.get, True, max(0.1, timeout))
    except queue.Empty:
        return None


def media_process(deadline: float, commands, results):
    child_setup()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()  # configured as in daphne: VIDEO_MAX_BITRATE, AUDIO_BITRATE, ICE_HOST_ADDRESSES
    asyncio.run(run_media(deadline, commands, results))


async def run_media(deadline, commands, results):
    from signaling.media.router import PairMediaRouter

    router = PairMediaRouter("bench-weak-links", ice_servers=[])
    for participant_id in ("doctor", "station"):
        async def told(level, reason, participant_id=participant_id):
            results.put(("quality", participant_id, (time.monotonic(), level.name, reason)))

        router.quality_listeners[participant_id] = told

    async def answer(reader, writer):
        try:
            request = json.loads(await reader.readline())
            reply = {"sdp": await router.offer(request["id"], request["id"], request["sdp"])}
        except Exception as error:
            reply = {"error": f"{type(error).__name__}: {error}"}
        writer.write(json.dumps(reply).encode() + b"\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0, limit=1 << 20)
    results.put(("port", "media", server.sockets[0].getsockname()[1]))
    await next_command(commands, deadline - time.monotonic())  # the parent kills us after the run
    server.close()
    await router.close()


class Receiver:
    """What arrives at one peer: (time, width, height) per video frame,
    (time, seconds on the sender's clock) per audio frame."""

    def __init__(self):
        self.video: list[tuple[float, int, int]] = []
        self.audio: list[tuple[float, float]] = []
        self.tasks: list[asyncio.Task] = []

    def listen(self, pc: RTCPeerConnection):
        @pc.on("track")
        def on_track(track):
            self.tasks.append(asyncio.ensure_future(self._count(track)))
            if track.kind == "video":
                receiver = next(t.receiver for t in pc.getTransceivers() if t.receiver.track is track)
                self.tasks.append(asyncio.ensure_future(self._ask_for_keyframes(receiver)))

    async def _ask_for_keyframes(self, receiver):
        """As a browser does when it cannot decode (aiortc's receiver waits until
        its jitter buffer overflows): a keyframe request after a second without
        a picture, at most one a second."""
        from signaling.media.encoded import request_keyframe

        while True:
            await asyncio.sleep(1.0)
            if not self.video or time.monotonic() - self.video[-1][0] > 1.0:
                await request_keyframe(receiver)

    async def _count(self, track):
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            now = time.monotonic()
            if track.kind == "video":
                self.video.append((now, frame.width, frame.height))
            else:
                self.audio.append((now, float(frame.pts * frame.time_base)))

    def close(self):
        for task in self.tasks:
            task.cancel()


class TappedRelay(LossyRelay):
    """The lossy relay, noting the RTP packets it lets through to the station
    (SRTP leaves the RTP header in the clear): (time, payload type, sequence
    number, timestamp, bytes, marker)."""

    def __init__(self):
        super().__init__()
        self.delivered: list[tuple[float, int, int, int, int, bool]] = []

    def _forward(self, direction, transport, data: bytes, addr) -> None:
        passed = direction.passed
        super()._forward(direction, transport, data, addr)
        # RTP, not RTCP (payload types 72 to 76 with the marker bit: 200 to 204), STUN or DTLS.
        if direction is self.down and direction.passed > passed and len(data) >= 12 and 128 <= data[0] < 192 \
                and not 192 <= data[1] <= 223:
            self.delivered.append((time.monotonic(), data[1] & 0x7F, int.from_bytes(data[2:4], "big"),
                                   int.from_bytes(data[4:8], "big"), len(data), bool(data[1] & 0x80)))


def payload_types(sdp: str, codec: str) -> set[int]:
    return {int(pt) for pt, name in re.findall(r"a=rtpmap:(\d+) ([\w-]+)/", sdp) if name.lower() == codec}


def peer_process(name: str, port: int, deadline: float, commands, results):
    child_setup()
    asyncio.run(run_peer(name, port, deadline, commands, results))


async def run_peer(name, port, deadline, commands, results):
    """The doctor or the station: joins, says when video flows, and (the
    station) follows the plan the parent sends: link bad, window, link clean."""
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    receiver = Receiver()
    receiver.listen(pc)
    relay = await TappedRelay().start() if name == "station" else None
    pc.addTrack(SyntheticMicrophone())
    pc.addTrack(ScrollingCamera() if name == "doctor" else SyntheticCamera(220))
    error = ""
    try:
        async with asyncio.timeout(max(1.0, deadline - time.monotonic())):
            await pc.setLocalDescription(await pc.createOffer())
            offer = pc.localDescription.sdp
            answer = await exchange(port, name, without_candidates(offer) if relay else offer)
            await pc.setRemoteDescription(RTCSessionDescription(sdp=relay.through(answer) if relay else answer, type="answer"))
            audio_types, video_types = payload_types(answer, "opus"), payload_types(answer, "vp8")
            resent_types = payload_types(answer, "rtx")
            while not receiver.video:
                await asyncio.sleep(0.05)
    except Exception as failure:
        error = f"{name}: {type(failure).__name__}: {failure}"
    results.put(("ready", name, error))
    try:
        command = await next_command(commands, deadline - time.monotonic())
        if command is not None and relay is not None:
            _, bad_at, window_start, window_end, shape = command
            await sleep_until(bad_at)
            relay.shape(down=shape)
            await sleep_until(window_start)
            dropped, passed = relay.down.dropped, relay.down.passed
            await sleep_until(window_end)
            relay.shape(down=Shape())
            sent = relay.down.dropped - dropped + relay.down.passed - passed
            link_loss = (relay.down.dropped - dropped) / sent if sent else 0.0
            figures = window_figures(receiver, window_start, window_end, link_loss)
            figures.update(packet_figures(relay.delivered, audio_types, video_types, resent_types, window_start, window_end))
            results.put(("window", name, figures))
        await next_command(commands, deadline - time.monotonic())
    finally:
        receiver.close()
        if relay is not None:
            relay.close()
        await asyncio.wait_for(pc.close(), 5)


def window_figures(receiver: Receiver, start: float, end: float, link_loss: float) -> dict:
    seconds = end - start
    video = [(w, h) for at, w, h in receiver.video if start <= at < end]
    decoded = sum(1 for at, _ in receiver.audio if start <= at < end)
    sizes = sorted(video, key=lambda size: size[0] * size[1])
    return {
        "fps": len(video) / seconds,
        "size": sizes[len(sizes) // 2] if sizes else None,
        "decoded": decoded * AUDIO_FRAME / seconds,
        "link_loss": link_loss,
    }


def packet_figures(delivered, audio_types: set[int], video_types: set[int], resent_types: set[int],
                   start: float, end: float) -> dict:
    """Audio as the network delivers it to the station, before any jitter
    buffer: the share of the window's 20 ms packets that arrived, and the
    longest stretch of the sender's timeline with none (from RTP timestamps,
    48 kHz); the video's bit rate, and that of its retransmissions (RTX)."""
    seconds = end - start
    audio = sorted({timestamp for at, pt, _, timestamp, _, _ in delivered if start <= at < end and pt in audio_types})
    gaps = [((b - a) % (1 << 32)) / 48000 - AUDIO_FRAME for a, b in zip(audio, audio[1:])]
    video = [(seq, size, marker) for at, pt, seq, _, size, marker in delivered if start <= at < end and pt in video_types]
    return {
        "audio": len(audio) * AUDIO_FRAME / seconds,
        "gap": max([0.0, *gaps]) if audio else seconds,  # none at all: the whole window
        "kbps": sum(size for _, size, _ in video) * 8 / seconds / 1000,
        "intact": intact_frames(video) / seconds,
        "resent": sum(size for at, pt, _, _, size, _ in delivered if start <= at < end and pt in resent_types) * 8 / seconds / 1000,
    }


def intact_frames(video: list[tuple[int, int, bool]]) -> int:
    """Video frames whose every packet came through the first time: all
    sequence numbers from just after the previous frame's last packet (the
    one with the marker bit) to this frame's last. What a receiver could
    decode with no retransmission, as long as it had the frames before."""
    if not video:
        return 0
    first = video[0][0]
    seqs = {first + ((seq - first) % (1 << 16)) for seq, _, _ in video}  # unwrapped from the first
    ends = sorted(first + ((seq - first) % (1 << 16)) for seq, _, marker in video if marker)
    return sum(1 for previous, end in zip(ends, ends[1:]) if all(n in seqs for n in range(previous + 1, end + 1)))


# The parent.

def machine_busy_seconds() -> float:
    """CPU seconds all cores spent on anything but idle and iowait (/proc/stat)."""
    with open("/proc/stat") as stat:
        ticks = [int(value) for value in stat.readline().split()[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / CLOCK_TICKS


@dataclass
class Run:
    condition: Condition
    window: dict = field(default_factory=dict)
    level: str = ""  # at the window's end
    changes: int = 0  # level changes during the window
    first_down: float | None = None  # seconds after the link went bad
    to_audio: float | None = None
    back_up: float | None = None  # seconds after the link was clean again; None: never stepped down
    recovered: bool = True
    busy_cores: float = 0.0
    steps: list[tuple[float, str, str]] = field(default_factory=list)  # the station's: (seconds after the link went bad, level, reason)
    errors: list[str] = field(default_factory=list)


def run_once(condition: Condition, options) -> Run:
    run = Run(condition)
    context = multiprocessing.get_context("spawn")  # no forked copies of this process's threads
    results = context.Queue()
    processes: dict[str, multiprocessing.Process] = {}
    commands: dict[str, multiprocessing.Queue] = {}
    started = time.monotonic()
    deadline = started + SETUP_TIMEOUT + options.warmup + options.settle + options.window + options.recovery + 30
    busy_before = machine_busy_seconds()
    events: dict[str, list[tuple[float, str, str]]] = {"doctor": [], "station": []}
    inbox: dict[tuple[str, str], object] = {}

    def start(name, target, *args):
        commands[name] = context.Queue()
        processes[name] = context.Process(target=target, args=(*args, deadline, commands[name], results), daemon=True)
        processes[name].start()

    def pump(until: float, done) -> None:
        """Take the children's messages until done() or the time is up."""
        while not done() and time.monotonic() < until:
            try:
                message_kind, name, payload = results.get(timeout=max(0.05, min(0.5, until - time.monotonic())))
            except queue.Empty:
                if not all(process.is_alive() for process in processes.values()):
                    return  # a child died: what it owed will not come
                continue
            if message_kind == "quality":
                events[name].append(payload)
            else:
                inbox[message_kind, name] = payload

    def collect(kind: str, names: set[str], until: float) -> dict:
        pump(until, lambda: all((kind, n) in inbox for n in names))
        return {n: inbox[kind, n] for n in names if (kind, n) in inbox}

    try:
        start("media", media_process)
        port = collect("port", {"media"}, started + SETUP_TIMEOUT).get("media")
        if port is None:
            run.errors.append("the media process did not start")
            return run
        for name in ("doctor", "station"):
            start(name, peer_process, name, port)
        ready = collect("ready", {"doctor", "station"}, started + SETUP_TIMEOUT)
        run.errors += [error for error in ready.values() if error]
        if len(ready) < 2 or run.errors:
            run.errors.append("the call did not come up")
            return run
        bad_at = time.monotonic() + options.warmup
        window_start = bad_at + options.settle
        window_end = window_start + options.window
        commands["station"].put(("plan", bad_at, window_start, window_end, condition.shape))
        window = collect("window", {"station"}, window_end + REPORT_TIMEOUT).get("station")
        if window is None:
            run.errors.append("no figures from the station")
            return run
        run.window = window
        station = events["station"]
        if any(at < bad_at for at, _, _ in station):
            run.errors.append(f"stepped down before the link went bad: {[(round(at - bad_at, 1), lvl) for at, lvl, _ in station]}")
        before_end = [lvl for at, lvl, _ in station if at < window_end]
        run.level = before_end[-1] if before_end else "high"
        run.changes = sum(window_start <= at < window_end for at, _, _ in station)
        downs = [at - bad_at for at, lvl, reason in station if at >= bad_at and reason != "recovered"]
        run.first_down = downs[0] if downs else None
        audio = [at - bad_at for at, lvl, _ in station if at >= bad_at and lvl == "audio"]
        run.to_audio = audio[0] if audio else None
        if run.level != "high" or run.first_down is not None:
            # The link is clean again from window_end: wait for the top level.
            def back_to_high():
                after = [(at, lvl) for at, lvl, _ in events["station"] if at >= window_end]
                return bool(after) and after[-1][1] == "high"

            pump(window_end + options.recovery, back_to_high)
            after = [(at, lvl) for at, lvl, _ in events["station"] if at >= window_end]
            if after and after[-1][1] == "high":
                run.back_up = after[-1][0] - window_end
            elif run.level == "high" and not after:
                run.back_up = 0.0  # it was already back up within the window
            else:
                run.recovered = False
        run.steps = [(at - bad_at, lvl, reason) for at, lvl, reason in events["station"]]
        if events["doctor"]:
            run.errors.append(f"the doctor's clean link was stepped too: {[lvl for _, lvl, _ in events['doctor']]}")
        return run
    finally:
        run.busy_cores = (machine_busy_seconds() - busy_before) / (time.monotonic() - started)
        for process in processes.values():
            if process.is_alive():
                process.kill()  # by its own pid: only what this run started
        for process in processes.values():
            process.join(timeout=5)
        results.close()
        for q in commands.values():
            q.close()


# The report.

def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def seconds(runs: list[Run], attribute: str, bound: float | None = None) -> str:
    """The median time of a step, where a run without that step counts as
    never ("-"); a run that stepped down but did not get back up within
    the bound counts as over it. Of an even number, the lower middle."""
    if attribute == "back_up":
        runs = [r for r in runs if r.back_up is not None or not r.recovered]
        values = [r.back_up if r.recovered else math.inf for r in runs]
    else:
        values = [getattr(r, attribute) for r in runs]
    if not values:
        return "-"
    value = sorted(values, key=lambda v: math.inf if v is None else v)[(len(values) - 1) // 2]
    if value is None:
        return "-"
    return f">{bound:.0f}" if value == math.inf else f"{value:.1f}"


def level_text(runs: list[Run]) -> str:
    levels = [r.level for r in runs if r.level]
    if not levels:
        return "?"
    # The median level (of an even number, the higher of the middle two, as for the times).
    level = sorted(levels, key=LEVELS.index)[(len(levels) - 1) // 2]
    changes = median([r.changes for r in runs]) or 0
    return f"{level} ({changes:.0f} ch.)" if changes else level


def size_text(runs: list[Run]) -> str:
    sizes = [tuple(r.window["size"]) for r in runs if r.window.get("size")]
    if not sizes:
        return "-"
    width, height = max(set(sizes), key=sizes.count)
    return f"{width}x{height}"


def print_row(condition: Condition, runs: list[Run], options):
    done = [r for r in runs if r.window]
    if not done:
        print(f"{str(condition):>12}   no figures: {sorted({e for r in runs for e in r.errors})}")
        return
    figure = {key: median([r.window[key] for r in done])
              for key in ("fps", "intact", "kbps", "resent", "audio", "gap", "decoded", "link_loss")}
    busy = median([r.busy_cores for r in runs])
    print(
        f"{str(condition):>12} {len(done):>4} {figure['fps']:>6.1f} {figure['intact']:>6.1f} {size_text(done):>8} {figure['kbps']:>6.0f}"
        f" {figure['resent']:>6.0f}"
        f" {figure['audio']:>7.1%} {figure['gap'] * 1000:>7.0f} {figure['decoded']:>8.1%} {figure['link_loss']:>6.1%}"
        f"  {level_text(done):<13} {seconds(done, 'first_down'):>5} {seconds(done, 'to_audio'):>5}"
        f" {seconds(done, 'back_up', options.recovery):>5} {busy:>5.1f}"
    )
    if options.steps:
        for n, r in enumerate(runs, 1):
            w = r.window
            if w:
                size = "x".join(map(str, w["size"])) if w.get("size") else "-"
                print(f"{'':>12}   run {n}: {w['fps']:.1f} fps, intact {w['intact']:.1f}, {size}, {w['kbps']:.0f} kbit/s "
                      f"(+{w['resent']:.0f} resent), "
                      f"audio {w['audio']:.1%}, gap {w['gap'] * 1000:.0f} ms, decoded {w['decoded']:.1%}, "
                      f"link loss {w['link_loss']:.1%}, busy {r.busy_cores:.1f}")
            print(f"{'':>12}     steps: " + (", ".join(f"{at:+.1f} {lvl} ({reason})" for at, lvl, reason in r.steps) or "none"))
    for problem in sorted({e for r in runs for e in r.errors}):
        print(f"{'':>12}   note: {problem}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conditions", default=CONDITIONS,
                        type=lambda text: [Condition.parse(part) for part in text.split(",")])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warmup", type=float, default=4.0, help="seconds of a clean link before it goes bad")
    parser.add_argument("--settle", type=float, default=14.0, help="seconds of a bad link before the window")
    parser.add_argument("--window", type=float, default=10.0)
    parser.add_argument("--recovery", type=float, default=75.0, help="longest wait for the step back to high")
    parser.add_argument("--steps", action="store_true", help="print each run's steps, in seconds after the link went bad")
    options = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    print(
        f"One media process (PairMediaRouter), a doctor and a station as aiortc peers, each in its own process; "
        f"{os.cpu_count()} CPU cores.\nThe station's downlink goes through a lossy relay: bad after {options.warmup:.0f} s, "
        f"figures over {options.window:.0f} s after {options.settle:.0f} s more, then clean again; "
        f"medians of {options.repeats} runs.\n"
    )
    print(f"{'downlink':>12} {'runs':>4} {'video':>6} {'intact':>6} {'picture':>8} {'video':>6} {'resent':>6} {'audio':>7} {'longest':>7} "
          f"{'aiortc':>8} {'link':>6}  {'level':<13} {'first':>5} {'audio':>5} {'back':>5} {'busy':>5}")
    print(f"{'':>12} {'':>4} {'fps':>6} {'fps':>6} {'':>8} {'kbit/s':>6} {'kbit/s':>6} {'packets':>7} {'gap ms':>7} "
          f"{'decoded':>8} {'loss':>6}  {'at the end':<13} {'down':>5} {'only':>5} {'up':>5} {'cores':>5}")
    began = time.monotonic()
    for condition in options.conditions:
        runs = [run_once(condition, options) for _ in range(options.repeats)]
        print_row(condition, runs, options)
    print(f"\n{time.monotonic() - began:.0f} s in all. Levels: high 320x240 at 15 fps, medium 240x180 at 10, "
          "low 160x120 at 7, audio only (signaling/media/quality.py).")


if __name__ == "__main__":
    main()
