"""One teacher to N pupils through a lesson's media process: aiortc's stock
relay against forwarded encoded frames.

    .venv/bin/python bench/fanout.py [--sizes 10,25,50,100,200] [--modes relay,forward]
                                     [--seconds 10] [--warmup 5] [--per-process 10]

Every step starts fresh processes, all on 127.0.0.1, and kills them at its end
(children also die with this script, Ctrl-C or not):

- the media process: one BroadcastMediaRouter(fanout="relay" | "forward"). "relay"
  is aiortc's stock MediaRelay (decode once, encode once per pupil), the
  baseline; "forward" hands the teacher's encoded frames to every pupil's
  sender. Offers reach it as JSON lines over a TCP socket on loopback;
- the teacher: a 320x240 VP8 picture at 15 fps and a 440 Hz Opus tone (50
  frames/s). The picture is a scrolling texture, so that the encoder spends
  about what it would on a camera (~300 kbit/s, 2 to 3 packets a frame;
  `--picture flat` sends one small packet a frame instead). Frame i is
  scheduled at epoch + i/15 on time.monotonic(), the clock every process
  shares, and carries i as two rows of black and white blocks;
- N pupils, --per-process of them in each pupil process, each offering audio
  (recvonly: no microphone), video and a second audio, as a lesson page does.
  They count frames without decoding them, except one probe pupil per process,
  which decodes the video, reads the frame number and so measures latency.
  Pupil processes run at --pupil-nice, so that where the cores run short the
  pupils fall behind rather than the media process.

After --warmup seconds, every process counts over the same --seconds window;
the media process's CPU comes from /proc/<pid>/stat (all its threads), the
machine's from /proc/stat. A step holds when every pupil got at least 95% of
the teacher's video frames and of its audio frames. A step that failed while
other programs used the cores is run again (--retries); a mode stops after
failing at two consecutive sizes. `--profile DIR` writes a cProfile (CPU time)
of the media process's event loop over the window, one file per step.
`--fixed-links` turns the server's link adaptation off (signaling.media.quality):
where the pupils' processes fill the cores, their late reports read as weak
links and stepped-down pupils get sound and stills instead of the video; with it
off, every pupil is sent the whole stream and the figures say what arrived.
"""

import argparse
import asyncio
import cProfile
import ctypes
import json
import logging
import math
import multiprocessing
import os
import queue
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
from aiortc.mediastreams import AUDIO_PTIME, MediaStreamError, MediaStreamTrack  # noqa: E402

from signaling.media.aioice_hooks import restrict_host_addresses  # noqa: E402
from tests.signaling.lesson_client import LessonClient  # noqa: E402

FPS = 15
AUDIO_FPS = 50  # 20 ms Opus frames
WIDTH, HEIGHT = 320, 240
VIDEO_RATE = 90000
PASS_RATIO = 0.95
JOINS_AT_ONCE = 4  # per pupil process: offers in flight at once
JOIN_TIMEOUT = 30.0  # one pupil: offer to answer applied
SPAWN_TIMEOUT = 60.0  # a process importing aiortc and av on busy cores
REPORT_TIMEOUT = 20.0  # window end to every process's counts
QUIET_WAIT = 60.0
QUIET_CORES = 0.3  # busy cores below which the machine counts as idle
DISTURBED = 25.0  # % of a core used by other programs during a window that makes a failure suspect
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def setup_seconds(pupils: int) -> float:
    """From the processes started to every pupil seeing video: grows with N."""
    return 40.0 + 0.3 * pupils


# The teacher's picture: frame numbers painted on it, read back by the probes.

BLOCK = 16
BITS = WIDTH // BLOCK  # 20 bits: 19 hours at 15 fps
DARK, LIGHT = 16, 235


def _texture() -> bytes:
    """Twice the picture's width of 8x8 tiles in pseudo-random shades, scrolled
    across the picture: motion the encoder must code, like a camera's."""
    width = 2 * WIDTH
    rows = []
    for y in range(HEIGHT):
        rows.append(bytes((((x // 8) * 37 + (y // 8) * 91) * 2654435761 >> 7) % 200 + 28 for x in range(width)))
    return b"".join(rows)


class TestCard:
    def __init__(self, picture: str):
        self.moving = picture == "moving"
        self.texture = _texture() if self.moving else bytes([128]) * (2 * WIDTH * HEIGHT)
        self.chroma = bytes([128]) * (WIDTH * HEIGHT // 4)

    def frame(self, index: int) -> av.VideoFrame:
        luma = bytearray(WIDTH * HEIGHT)
        shift = (index * 3) % WIDTH if self.moving else 0
        for y in range(2 * BLOCK, HEIGHT):
            start = y * 2 * WIDTH + shift
            luma[y * WIDTH:(y + 1) * WIDTH] = self.texture[start:start + WIDTH]
        # Row 0: the index's bits, lowest first; row 1: their complement (a check).
        bits = [(index >> b) & 1 for b in range(BITS)]
        for row, values in enumerate((bits, [1 - v for v in bits])):
            line = b"".join(bytes([LIGHT if v else DARK]) * BLOCK for v in values)
            for y in range(row * BLOCK, (row + 1) * BLOCK):
                luma[y * WIDTH:(y + 1) * WIDTH] = line
        frame = av.VideoFrame(WIDTH, HEIGHT, "yuv420p")
        frame.planes[0].update(bytes(luma))
        frame.planes[1].update(self.chroma)
        frame.planes[2].update(self.chroma)
        frame.pts = index * VIDEO_RATE // FPS
        frame.time_base = Fraction(1, VIDEO_RATE)
        return frame


def read_index(frame: av.VideoFrame) -> int | None:
    """The frame number painted by TestCard, or None if the check row disagrees."""
    plane = frame.planes[0]
    stride, data = plane.line_size, bytes(plane)
    index = 0
    for b in range(BITS):
        x = b * BLOCK + BLOCK // 2
        top = data[(BLOCK // 2) * stride + x] > 128
        bottom = data[(BLOCK + BLOCK // 2) * stride + x] > 128
        if top == bottom:
            return None
        index |= top << b
    return index


class TeacherCamera(MediaStreamTrack):
    """Frame i at epoch + i/FPS; a camera late by more than a frame skips ahead,
    as a real one would, rather than sending frames late."""

    kind = "video"

    def __init__(self, epoch: float, picture: str):
        super().__init__()
        self.epoch = epoch
        self.card = TestCard(picture)
        self.next: int | None = None
        self.sent: list[float] = []  # send times, for counting over the window

    async def recv(self) -> av.VideoFrame:
        now = time.monotonic()
        if self.next is None:
            self.next = math.ceil((now - self.epoch) * FPS)
        index = max(self.next, math.floor((now - self.epoch) * FPS))
        await asyncio.sleep(max(0.0, self.epoch + index / FPS - time.monotonic()))
        self.next = index + 1
        self.sent.append(time.monotonic())
        return self.card.frame(index)


class TeacherMicrophone(MediaStreamTrack):
    """A 440 Hz tone in 20 ms frames at 48 kHz; one second of it computed once
    (a whole number of periods), so the harness spends nothing on it."""

    kind = "audio"
    RATE = 48000

    def __init__(self):
        super().__init__()
        self.tone = b"".join(
            int(8000 * math.sin(2 * math.pi * 440 * n / self.RATE)).to_bytes(2, "little", signed=True)
            for n in range(self.RATE)
        )
        self.per_frame = int(AUDIO_PTIME * self.RATE)
        self._start: float | None = None
        self._samples = 0
        self.sent: list[float] = []

    async def recv(self) -> av.AudioFrame:
        if self._start is None:
            self._start = time.monotonic()
        await asyncio.sleep(max(0.0, self._start + self._samples / self.RATE - time.monotonic()))
        offset = 2 * (self._samples % self.RATE)
        frame = av.AudioFrame(format="s16", layout="mono", samples=self.per_frame)
        frame.planes[0].update(self.tone[offset:offset + 2 * self.per_frame])
        frame.sample_rate, frame.pts, frame.time_base = self.RATE, self._samples, Fraction(1, self.RATE)
        self._samples += self.per_frame
        self.sent.append(time.monotonic())
        return frame


class BenchPupil(LessonClient):
    """A lesson page's offer (LessonClient's); counts frames and video bytes.
    The probe decodes the video and keeps each frame's latency during the window."""

    def __init__(self, *, probe: bool, epoch: float):
        super().__init__("pupil", encoded_only=not probe, microphone=False)
        self.probe, self.epoch = probe, epoch
        self.video_bytes = 0
        self.measuring = False
        self.latencies: list[float] = []
        self.unreadable = 0

    async def _count(self, slot: str, track) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            now = time.monotonic()
            self.frames[slot] += 1
            if slot != "video":
                continue
            if self.first_video_at is None:
                self.first_video_at = now
            if not self.probe:
                self.video_bytes += len(frame.data)
            elif self.measuring:
                index = read_index(frame)
                if index is None:
                    self.unreadable += 1
                else:
                    self.latencies.append(now - (self.epoch + index / FPS))

    def counts(self) -> tuple[int, int, int, float]:
        return self.frames["video"], self.frames["audio"], self.video_bytes, time.monotonic()


# The loopback channel that carries offers and answers.

async def exchange(port: int, participant_id: str, side: str, sdp: str) -> str:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
    try:
        writer.write(json.dumps({"id": participant_id, "side": side, "sdp": sdp}).encode() + b"\n")
        await writer.drain()
        reply = json.loads(await reader.readline())
    finally:
        writer.close()
    if "error" in reply:
        raise RuntimeError(reply["error"])
    return reply["sdp"]


def serve_offers(router):
    async def answer(reader, writer):
        try:
            request = json.loads(await asyncio.wait_for(reader.readline(), JOIN_TIMEOUT))
            reply = {"sdp": await router.offer(request["id"], request["side"], request["sdp"])}
        except Exception as error:
            reply = {"error": f"{type(error).__name__}: {error}"}
        try:
            writer.write(json.dumps(reply).encode() + b"\n")
            await writer.drain()
        finally:
            writer.close()

    return asyncio.start_server(answer, "127.0.0.1", 0, limit=1 << 20)


# The processes.

def child_setup():
    """Every child: die with the parent, leave Ctrl-C to it, ICE on loopback only."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != multiprocessing.parent_process().pid:
        os._exit(1)  # the parent died before the line above
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


def media_process(mode: str, deadline: float, profile: str | None, fixed_links: bool, commands, results):
    child_setup()
    asyncio.run(run_media(mode, deadline, profile, fixed_links, commands, results))


async def run_media(mode, deadline, profile, fixed_links, commands, results):
    from signaling.media.broadcast import BroadcastMediaRouter

    router = BroadcastMediaRouter("bench-lesson", ice_servers=[], fanout=mode)
    if fixed_links:
        router._levels_for = lambda peer: None  # no participant's link is adapted
    server = await serve_offers(router)
    results.put(("port", "media", server.sockets[0].getsockname()[1]))
    command = await next_command(commands, deadline + 10 - time.monotonic())
    if command is None:
        return
    _, start, end = command
    await sleep_until(start)
    before = media_counts(router)
    # CPU time of the event loop thread, not wall time: other processes preempt this one.
    profiler = cProfile.Profile(time.thread_time) if profile else None
    if profiler:
        profiler.enable()
    await sleep_until(end)
    if profiler:
        profiler.disable()
        profiler.dump_stats(profile)
    after = media_counts(router)
    change = {}
    for key, value in after.items():
        if key in ("stepped down", "not connected"):  # at the window's end
            change[key] = value
        elif isinstance(value, dict):  # drops per subscriber
            change[key] = sum(dropped - before.get(key, {}).get(s, 0) for s, dropped in value.items())
        else:
            change[key] = value - before.get(key, 0)
    results.put(("media", "media", change))
    await next_command(commands, REPORT_TIMEOUT)  # the parent kills us after the step


def media_counts(router) -> dict:
    """What the media process itself saw: the teacher's frames in (forward
    only: the relay has no counter), and frames handed to the pupils'
    senders, for the least served pupil."""
    counts = {}
    teacher = router.presenter
    for kind in ("video", "audio"):
        fanout = router.fanouts.get(teacher.incoming.get(kind)) if teacher else None
        if fanout is not None:
            counts[f"teacher {kind} in"] = fanout.frames
            # Subscribers come and go (a pupil stepped down): count each one's own drops.
            counts[f"{kind} dropped"] = {id(s): s.dropped for s in fanout.subscribers}
    pupils = [p for p in router.participants.values() if p.side == "pupil"]
    for kind in ("video", "audio"):
        counts[f"{kind} out, least"] = min((p.outgoing[kind].frames for p in pupils), default=0)
    # Weak links (signaling.media.quality): a pupil whose link looks bad gets sound and stills.
    counts["stepped down"] = sum(bool(getattr(p, "auto_audio_only", False)) for p in pupils)
    counts["not connected"] = sum(p.pc.connectionState != "connected" for p in pupils)
    return counts


def teacher_process(port: int, epoch: float, picture: str, deadline: float, commands, results):
    child_setup()
    asyncio.run(run_teacher(port, epoch, picture, deadline, commands, results))


async def run_teacher(port, epoch, picture, deadline, commands, results):
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    camera, microphone = TeacherCamera(epoch, picture), TeacherMicrophone()
    pc.addTrack(microphone)
    pc.addTrack(camera)
    error = ""
    try:
        async with asyncio.timeout(JOIN_TIMEOUT):
            await pc.setLocalDescription(await pc.createOffer())
            answer = await exchange(port, "teacher", "teacher", pc.localDescription.sdp)
            await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
    except Exception as failure:
        error = f"teacher: {type(failure).__name__}: {failure}"
    results.put(("ready", "teacher", {"errors": [error] if error else []}))
    command = await next_command(commands, deadline + 10 - time.monotonic())
    if command is not None:
        _, start, end = command
        await sleep_until(end + 0.5)
        sent = {
            "video": sum(start <= t < end for t in camera.sent),
            "audio": sum(start <= t < end for t in microphone.sent),
        }
        results.put(("counts", "teacher", sent))
        await next_command(commands, REPORT_TIMEOUT)
    await asyncio.wait_for(pc.close(), 5)


def pupil_process(name: str, port: int, epoch: float, ids: list[str], deadline: float, niceness: int,
                  commands, results):
    child_setup()
    # The media process first: where the cores run short, pupils fall behind, not the server.
    os.nice(niceness)
    asyncio.run(run_pupils(name, port, epoch, ids, deadline, commands, results))


async def run_pupils(name, port, epoch, ids, deadline, commands, results):
    pupils = [BenchPupil(probe=n == 0, epoch=epoch) for n in range(len(ids))]
    errors: list[str] = []
    joins = asyncio.Semaphore(JOINS_AT_ONCE)

    async def join(participant_id: str, pupil: BenchPupil):
        async with joins:
            try:
                async with asyncio.timeout(JOIN_TIMEOUT):
                    await pupil.accept(await exchange(port, participant_id, "pupil", await pupil.offer()))
            except Exception as error:
                errors.append(f"{type(error).__name__}: {error}")

    try:
        async with asyncio.timeout(max(1.0, deadline - time.monotonic())):
            await asyncio.gather(*(join(i, p) for i, p in zip(ids, pupils)))
            while any(p.first_video_at is None for p in pupils):
                await asyncio.sleep(0.1)
    except TimeoutError:
        pass
    seeing = sum(p.first_video_at is not None for p in pupils)
    if seeing < len(pupils):
        errors.append(f"{len(pupils) - seeing} of {len(pupils)} pupils saw no video before the set-up deadline")
    results.put(("ready", name, {"errors": errors}))
    command = await next_command(commands, deadline + 10 - time.monotonic())
    if command is not None:
        _, start, end = command
        await sleep_until(start)
        before = [p.counts() for p in pupils]
        for pupil in pupils:
            pupil.measuring = True
        await sleep_until(end)
        after = [p.counts() for p in pupils]
        per_pupil = []
        for pupil, (v0, a0, b0, t0), (v1, a1, b1, t1) in zip(pupils, before, after):
            seconds = t1 - t0
            per_pupil.append({
                "video": (v1 - v0) / seconds, "audio": (a1 - a0) / seconds,
                "kbps": None if pupil.probe else 8 * (b1 - b0) / seconds / 1000,
            })
        probe = pupils[0]
        results.put(("counts", name, {
            "pupils": per_pupil, "latencies": probe.latencies, "unreadable": probe.unreadable,
        }))
        await next_command(commands, REPORT_TIMEOUT)
    await asyncio.wait_for(asyncio.gather(*(p.close() for p in pupils), return_exceptions=True), 5)


# Measuring from the parent.

def machine_busy_seconds() -> float:
    """CPU seconds all cores spent on anything but idle and iowait (/proc/stat)."""
    with open("/proc/stat") as stat:
        ticks = [int(value) for value in stat.readline().split()[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / CLOCK_TICKS


def cpu_seconds(pid: int) -> float:
    """User and system time of a process and all its threads (/proc/<pid>/stat fields 14 and 15)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            values = stat.read().rpartition(")")[2].split()
    except FileNotFoundError:
        return 0.0
    return (int(values[11]) + int(values[12])) / CLOCK_TICKS


def wait_for_quiet() -> float:
    """Wait (bounded) until the machine is nearly idle; returns the busy cores last seen."""
    deadline = time.monotonic() + QUIET_WAIT
    while True:
        before, started = machine_busy_seconds(), time.monotonic()
        time.sleep(1)
        busy = (machine_busy_seconds() - before) / (time.monotonic() - started)
        if busy < QUIET_CORES or time.monotonic() > deadline:
            return busy


def p95(samples: list[float]) -> float:
    """Nearest rank: the smallest sample at or above 95% of them."""
    ordered = sorted(samples)
    return ordered[-(-len(ordered) * 95 // 100) - 1]


@dataclass
class Step:
    mode: str
    pupils: int
    processes: int
    video: list[float] = field(default_factory=list)  # frames/s per pupil
    audio: list[float] = field(default_factory=list)
    kbps: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)  # seconds, all probes
    unreadable: int = 0
    media_cpu: float = 0.0  # % of one core
    harness_cpu: float = 0.0  # teacher, pupil processes and this script
    machine_cpu: float = 0.0
    busy_before: float = 0.0  # cores busy just before the step
    teacher: dict = field(default_factory=dict)
    media: dict = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def held(self) -> list[float]:
        """Per pupil: the smaller of its video and audio shares of the expected frames."""
        return [min(v / FPS, a / AUDIO_FPS) for v, a in zip(self.video, self.audio)]

    @property
    def passed(self) -> bool:
        return len(self.held) == self.pupils and min(self.held) >= PASS_RATIO

    @property
    def others_cpu(self) -> float:
        """Everything but this bench's processes (and the kernel's share of their traffic)."""
        # Clamped: the counters tick at 1/CLK_TCK s, so idle others can come out slightly negative.
        return max(0.0, self.machine_cpu - self.media_cpu - self.harness_cpu)

    @property
    def cpu_per_pupil(self) -> float:
        return self.media_cpu / self.pupils


def run_step(mode: str, pupils: int, options) -> Step:
    per_process = options.per_process
    groups = [[f"p{n}" for n in range(start, min(pupils, start + per_process))] for start in range(0, pupils, per_process)]
    step = Step(mode, pupils, len(groups), busy_before=wait_for_quiet())
    context = multiprocessing.get_context("spawn")  # no forked copies of this process's threads
    results = context.Queue()
    processes: dict[str, multiprocessing.Process] = {}
    commands: dict[str, multiprocessing.Queue] = {}
    started = time.monotonic()
    deadline = started + SPAWN_TIMEOUT + setup_seconds(pupils)

    def start(name, target, *args):
        commands[name] = context.Queue()
        processes[name] = context.Process(target=target, args=(*args, commands[name], results), daemon=True)
        processes[name].start()

    inbox: dict[tuple[str, str], object] = {}

    def collect(kind: str, names: set[str], until: float) -> dict[str, object]:
        while any((kind, n) not in inbox for n in names) and time.monotonic() < until:
            try:
                message_kind, name, payload = results.get(timeout=max(0.1, min(1.0, until - time.monotonic())))
            except queue.Empty:
                if any(not processes[n].is_alive() for n in names if (kind, n) not in inbox):
                    break  # a child died: its message will not come
                continue
            inbox[message_kind, name] = payload
        return {n: inbox[kind, n] for n in names if (kind, n) in inbox}

    try:
        profile = str(Path(options.profile) / f"media-{mode}-{pupils}.pstats") if options.profile else None
        start("media", media_process, mode, deadline, profile, options.fixed_links)
        port = collect("port", {"media"}, started + SPAWN_TIMEOUT).get("media")
        if port is None:
            step.errors.append("the media process did not start")
            return step
        epoch = time.monotonic()
        start("teacher", teacher_process, port, epoch, options.picture, deadline)
        for n, ids in enumerate(groups):
            start(f"pupils{n}", pupil_process, f"pupils{n}", port, epoch, ids, deadline, options.pupil_nice)
        clients = {name for name in processes if name != "media"}
        ready = collect("ready", clients, deadline + 5)
        for name in sorted(clients - set(ready)):
            step.errors.append(f"{name}: not ready before the set-up deadline")
        for payload in ready.values():
            step.errors += payload["errors"]
        window_start = time.monotonic() + options.warmup
        window_end = window_start + options.seconds
        for name in processes:
            commands[name].put(("window", window_start, window_end))
        pids = {name: process.pid for name, process in processes.items()}
        time.sleep(max(0.0, window_start - time.monotonic()))
        cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        parent_before = cpu_seconds(os.getpid())
        machine_before, measured_from = machine_busy_seconds(), time.monotonic()
        time.sleep(max(0.0, window_end - time.monotonic()))
        cpu_after = {name: cpu_seconds(pid) for name, pid in pids.items()}
        parent_after = cpu_seconds(os.getpid())
        machine_after, measured_to = machine_busy_seconds(), time.monotonic()
        step.seconds = measured_to - measured_from
        step.media_cpu = 100 * (cpu_after["media"] - cpu_before["media"]) / step.seconds
        step.harness_cpu = 100 * sum(cpu_after[n] - cpu_before[n] for n in clients) / step.seconds
        step.harness_cpu += 100 * (parent_after - parent_before) / step.seconds
        step.machine_cpu = 100 * (machine_after - machine_before) / step.seconds
        reports = collect("counts", clients, window_end + REPORT_TIMEOUT)
        step.media = collect("media", {"media"}, time.monotonic() + 5).get("media", {})
        step.teacher = reports.get("teacher", {})
        for n, ids in enumerate(groups):
            report = reports.get(f"pupils{n}")
            if report is None:
                step.errors.append(f"pupils{n}: no counts")
                step.video += [0.0] * len(ids)
                step.audio += [0.0] * len(ids)
                continue
            step.video += [p["video"] for p in report["pupils"]]
            step.audio += [p["audio"] for p in report["pupils"]]
            step.kbps += [p["kbps"] for p in report["pupils"] if p["kbps"] is not None]
            step.latencies += report["latencies"]
            step.unreadable += report["unreadable"]
        return step
    finally:
        for process in processes.values():
            if process.is_alive():
                process.kill()  # by its own pid: only what this step started
        for process in processes.values():
            process.join(timeout=5)
        results.close()
        for q in commands.values():
            q.close()


# The report.

def line_fit(points: list[tuple[float, float]]) -> tuple[float, float]:
    """Least squares y = a + b x."""
    xs, ys = [x for x, _ in points], [y for _, y in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    b = sum((x - mx) * (y - my) for x, y in points) / sum((x - mx) ** 2 for x in xs)
    return my - b * mx, b


def show(step: Step) -> str:
    def ms(values, fn):
        return f"{1000 * fn(values):>6.0f}" if values else f"{'-':>6}"

    if not step.video:
        return f" {step.mode:<8}{step.pupils:>4}   set-up failed: {'; '.join(step.errors)[:200]}"
    return (
        f" {step.mode:<8}{step.pupils:>4} {statistics.median(step.video):>7.1f} {min(step.video):>5.1f}"
        f" {statistics.median(step.audio):>7.1f} {min(step.audio):>5.1f} {100 * min(step.held):>7.1f}%"
        f" {ms(step.latencies, statistics.median)} {ms(step.latencies, p95)}"
        f" {step.media_cpu:>7.0f}% {step.cpu_per_pupil:>8.2f}% {step.harness_cpu:>8.0f}% {step.machine_cpu:>8.0f}%"
        f"   {'yes' if step.passed else 'NO'}"
    )


def details(step: Step) -> str:
    parts = []
    if step.teacher:
        parts.append(f"teacher sent {step.teacher['video'] / step.seconds:.1f} video/"
                     f"{step.teacher['audio'] / step.seconds:.1f} audio frames/s")
    if step.media:
        media = step.media
        rate = {key: value / step.seconds for key, value in media.items()}
        seen = ", ".join(
            f"{kind} in {rate[f'teacher {kind} in']:.1f}/s" for kind in ("video", "audio") if f"teacher {kind} in" in rate
        )
        parts.append(
            f"media process: {seen + ', ' if seen else ''}least-served pupil's video out {rate['video out, least']:.1f}/s, "
            f"audio out {rate['audio out, least']:.1f}/s"
            + (f", dropped {media['video dropped']} video/{media['audio dropped']} audio" if "video dropped" in media else "")
        )
        if media.get("stepped down") or media.get("not connected"):
            parts.append(f"at the end {media['stepped down']} pupils stepped down to sound and stills, "
                         f"{media['not connected']} not connected")
    if step.kbps:
        parts.append(f"video {statistics.median(step.kbps):.0f} kbit/s")
    if step.latencies:
        parts.append(f"{len(step.latencies)} latency samples, max {1000 * max(step.latencies):.0f} ms")
    if step.unreadable:
        parts.append(f"{step.unreadable} unreadable frame numbers")
    parts.append(f"{step.processes} pupil processes; other programs {step.others_cpu:.0f}% "
                 f"(busy before {100 * step.busy_before:.0f}%)")
    if step.machine_cpu >= 0.95 * 100 * os.cpu_count():
        parts.append("every core busy: the harness and the media process competed for CPU")
    elif step.media_cpu >= 90:
        parts.append("the media process near one full core")
    lines = ["            " + "; ".join(parts)]
    if step.errors:
        shown = sorted(set(step.errors))
        lines.append(f"            problems: {'; '.join(shown[:4])}{' ...' if len(shown) > 4 else ''}")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,25,50,100,200", help="numbers of pupils, comma-separated")
    parser.add_argument("--modes", default="relay,forward", help="relay (stock MediaRelay), forward, or both")
    parser.add_argument("--seconds", type=float, default=10.0, help="measuring window")
    parser.add_argument("--warmup", type=float, default=5.0, help="after every pupil sees video")
    parser.add_argument("--per-process", type=int, default=10, help="pupils per pupil process")
    parser.add_argument("--pupil-nice", type=int, default=10,
                        help="niceness of the pupil processes, so that they do not take the media process's CPU")
    parser.add_argument("--retries", type=int, default=2,
                        help="runs again a step that failed while other programs were busy, at most this often")
    parser.add_argument("--picture", choices=("moving", "flat"), default="moving")
    parser.add_argument("--profile", help="folder for a cProfile of the media process per step")
    parser.add_argument("--fixed-links", action="store_true",
                        help="no link adaptation: every pupil is sent the whole stream, however late its reports")
    options = parser.parse_args()
    sizes = [int(s) for s in options.sizes.split(",")]
    modes = options.modes.split(",")
    if set(modes) - {"relay", "forward"}:
        parser.error("modes are relay and forward")
    if options.profile:
        Path(options.profile).mkdir(parents=True, exist_ok=True)

    print(
        f"One teacher (320x240 VP8 at {FPS} fps, {options.picture} picture, Opus at {AUDIO_FPS} frames/s) to N pupils "
        f"through one media process; {os.cpu_count()} cores shared by the media process, the teacher, "
        f"the pupil processes ({options.per_process} pupils each) and this script.\n"
        f"Frames counted over {options.seconds:.0f} s after {options.warmup:.0f} s of warm-up; a step passes "
        f"when every pupil gets >= {PASS_RATIO:.0%} of the video and of the audio frames.\n"
        f"The server's link adaptation is {'off (--fixed-links)' if options.fixed_links else 'on'}.\n"
        "Latency: from a frame's scheduled capture at the teacher to its decoded arrival at a probe pupil "
        "(one per pupil process): the teacher's encode, two jitter buffers (one frame interval each), "
        "the media process's forwarding or decode and encode, the probe's decode, and any queueing in the "
        "three processes.\nCPU in % of one core (machine: of "
        f"{100 * os.cpu_count()}%); 'harness' is the teacher, the pupil processes and this script.\n"
    )
    header = (
        " mode       N   video fps     audio fps     frames   latency ms    media  CPU per  harness  machine  pass\n"
        "               median   min median   min  min held  median   p95      CPU    pupil      CPU      CPU"
    )
    print(header, flush=True)
    steps: list[Step] = []
    failures = {mode: 0 for mode in modes}
    stopped: dict[str, int] = {}
    for pupils in sizes:
        for mode in modes:
            if mode in stopped:
                continue
            step = run_step(mode, pupils, options)
            for _ in range(options.retries):
                if step.passed or step.others_cpu <= DISTURBED:
                    break
                print(f"            (a failed attempt while other programs used {step.others_cpu:.0f}%: run again)")
                step = run_step(mode, pupils, options)
            steps.append(step)
            print(show(step))
            print(details(step), flush=True)
            failures[mode] = 0 if step.passed else failures[mode] + 1
            if failures[mode] >= 2:
                stopped[mode] = pupils
                print(f"            {mode}: below {PASS_RATIO:.0%} at two consecutive sizes; its larger sizes not run")

    print()
    for mode in modes:
        runs = [s for s in steps if s.mode == mode]
        held = [s.pupils for s in runs if s.passed]
        largest = max(held) if held else None
        note = f" (stopped after N = {stopped[mode]})" if mode in stopped else ""
        print(f"Largest N with every pupil at >= {PASS_RATIO:.0%} of the frames, {mode}: "
              f"{largest if largest is not None else 'none of ' + ', '.join(str(s.pupils) for s in runs)}{note}")
    both = {(s.pupils, s.mode): s for s in steps}
    for pupils in sizes:
        relay, forward = both.get((pupils, "relay")), both.get((pupils, "forward"))
        if relay and forward and relay.media_cpu > 0:
            saturated = " (relay saturated: its figure is what it managed, not what it needed)" if not relay.passed else ""
            print(f"Media CPU per pupil at N = {pupils}: forward {forward.cpu_per_pupil:.2f}% / relay "
                  f"{relay.cpu_per_pupil:.2f}% = {forward.cpu_per_pupil / relay.cpu_per_pupil:.2f}{saturated}")
    best = {mode: max((s for s in steps if s.mode == mode and s.passed), key=lambda s: s.pupils, default=None)
            for mode in ("relay", "forward")}
    if best["relay"] and best["forward"]:
        relay, forward = best["relay"], best["forward"]
        print(f"Media CPU per pupil, each mode at its largest N that held: forward {forward.cpu_per_pupil:.2f}% "
              f"(N = {forward.pupils}) / relay {relay.cpu_per_pupil:.2f}% (N = {relay.pupils}) = "
              f"{forward.cpu_per_pupil / relay.cpu_per_pupil:.2f}")
    for mode in modes:
        held = [s for s in steps if s.mode == mode and s.passed]
        if len(held) >= 2 and len({s.pupils for s in held}) >= 2:
            fixed, per_pupil = line_fit([(s.pupils, s.media_cpu) for s in held])
            line = (f"{mode}: media CPU ~ {fixed:.0f}% + {per_pupil:.2f}% per pupil (fit over the steps that held, "
                    f"N = {', '.join(str(s.pupils) for s in held)})")
            largest = max(sizes)
            if largest > held[-1].pupils:
                line += f"; {fixed + per_pupil * largest:.0f}% of a core at N = {largest} if it scaled linearly"
                if mode == "forward":
                    line += " (but its event loop is one thread: about 100% is the ceiling)"
            print(line)
    print(
        "\nMedians over pupils and probes of one run; the cores are shared with the harness and whatever "
        "else runs on this machine ('busy before' in each step's details), so figures vary by some percent "
        "between runs."
    )


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # every step's processes were killed on the way out
        sys.exit("interrupted")
