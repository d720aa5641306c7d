"""Call set-up time and simultaneous-call capacity of one daphne process,
with the server forwarding each side's encoded frames (CALL_MEDIA=forward,
the default) against re-encoding them for the other side (transcode), in the
same run.

    .venv/bin/python bench/calls.py [--modes transcode,forward] [--steps 1,2,4,8,16,30] [--calls 20]

For each mode it starts one daphne (bin/serve) on a free 127.0.0.1 port over a throwaway SQLite
database in a temporary folder (created, migrated, given a doctor, a station
worker and consultations starting now; removed at the end). That process holds
every server-side aiortc peer, so its CPU is the figure that matters.
Participants are tests.signaling.call_client.CallClient: a synthetic 320x240
15 fps camera and a 440 Hz tone, over a real WebSocket and real UDP, all on
loopback. Measures:

- the time from just before a participant opens the room socket to its first
  decoded remote video frame, over CALLS sequential 1:1 calls (both
  participants join and offer at once, then both leave): median, p95, min and
  max over both participants of every call;
- how many simultaneous 1:1 calls (video and audio both ways) the daphne
  process sustains with every participant receiving at least 95% of the 15
  video frames and of the 50 audio frames a second, for N in STEPS until the
  first N that fails. The
  participants run in up to CLIENT_PROCESSES processes of their own, so this
  script's CPU does not limit the figure; after WARMUP seconds, frames are
  counted over WINDOW seconds, with daphne's and the clients' CPU over the
  same window (read from /proc: psutil is not installed), and the whole
  machine's, so that load from other programs shows. Each step waits (at
  most QUIET_WAIT seconds) for the machine to be nearly idle first.

The machine's cores are shared by daphne and the client processes, which
encode and decode as much video as the server does, so the capacity found is
a lower bound for a server with cores of its own: where the clients' CPU
fills the cores before daphne's does, the bench says the harness bound first.
Last, daphne's CPU per call in both modes at each N both passed: their ratio
is how many more calls a core carries forwarding.
"""

import argparse
import asyncio
import logging
import multiprocessing
import os
import queue
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
# bench/ holds booking.py, named like the booking app: its folder must not shadow the app.
sys.path = [p for p in sys.path if Path(p or ".").resolve() != BENCH_DIR]
sys.path.insert(0, str(ROOT))

import websockets  # noqa: E402

from signaling.media.aioice_hooks import restrict_host_addresses  # noqa: E402
from tests.signaling.call_client import CallClient  # noqa: E402

CALLS = 20
STEPS = [1, 2, 4, 6, 8, 12, 16, 20, 24, 30, 36]
CLIENT_PROCESSES = 4
FPS = 15  # SyntheticCamera's default
AUDIO_FPS = 50  # 20 ms Opus frames
WARMUP = 3.0
WINDOW = 8.0
PASS_RATIO = 0.95
SETUP_TIMEOUT = 20.0  # socket open to first remote video frame
CLOSE_TIMEOUT = 5.0
SPAWN_TIMEOUT = 30.0  # a client process importing aiortc and av on busy cores
QUIET_WAIT = 30.0
QUIET_CORES = 0.3  # busy cores below which the machine counts as idle
SHADES = {"doctor": 40, "station": 220}
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Seat:
    """One participant's place: which room, as whom."""

    room_id: str
    side: str
    cookie: str


class Participant:
    """A CallClient over a real WebSocket to daphne."""

    def __init__(self, base_url: str, seat: Seat):
        self.base_url, self.seat = base_url, seat
        self.ws = None
        self.client: CallClient | None = None
        self.opened_at = 0.0
        self.phases: dict[str, float] = {}  # seconds from opening the socket
        self.error = ""
        self._drain: asyncio.Task | None = None

    async def enter(self) -> float | None:
        """Open the socket, join and offer; seconds until the first remote
        video frame, or None if it did not come within SETUP_TIMEOUT."""
        self.opened_at = time.monotonic()
        deadline = self.opened_at + SETUP_TIMEOUT
        try:
            async with asyncio.timeout(SETUP_TIMEOUT):
                url = self.base_url.replace("http://", "ws://") + f"/ws/rooms/{self.seat.room_id}/"
                self.ws = await websockets.connect(
                    url, additional_headers={"Cookie": self.seat.cookie}, origin=self.base_url,
                    proxy=None, close_timeout=CLOSE_TIMEOUT,
                )
                self.client = CallClient(self.ws.send, self.ws.recv, shade=SHADES[self.seat.side])
                self.phases["socket open"] = time.monotonic() - self.opened_at
                await self.client.join()
                self.phases["joined"] = time.monotonic() - self.opened_at
                await self.client.call()
                self.phases["answer applied"] = time.monotonic() - self.opened_at
                # Nobody reads the socket after the answer; keep it read so pings still get their pongs.
                self._drain = asyncio.ensure_future(self._discard_messages())
                while self.client.received.first_video_at is None and time.monotonic() < deadline:
                    await asyncio.sleep(0.01)
        except Exception as error:
            self.error = f"{type(error).__name__}: {error}"
        if self.client is None or self.client.received.first_video_at is None:
            self.error = self.error or "no remote video"
            return None
        return self.client.received.first_video_at - self.opened_at

    async def _discard_messages(self):
        try:
            async for _ in self.ws:
                pass
        except websockets.ConnectionClosed:
            pass

    def frames(self) -> tuple[int, int]:
        if self.client is None:
            return 0, 0
        return self.client.received.frames["video"], self.client.received.frames["audio"]

    async def leave(self):
        if self._drain is not None:
            self._drain.cancel()
        if self.client is not None:
            try:
                await asyncio.wait_for(self.client.close(), CLOSE_TIMEOUT)
            except Exception:
                pass  # leaving anyway: the socket's close tells the server
        if self.ws is not None:
            try:
                await asyncio.wait_for(self.ws.close(), CLOSE_TIMEOUT + 1)
            except Exception:
                pass


# Part 1: set-up time, one call at a time, participants in this process.

@dataclass
class TimedCall:
    times: list[float | None]  # per participant: socket open to first remote video frame
    phases: list[dict[str, float]]
    errors: list[str]


async def timed_call(base_url: str, seats: list[Seat]) -> TimedCall:
    people = [Participant(base_url, seat) for seat in seats]
    try:
        times = await asyncio.gather(*(person.enter() for person in people))
        return TimedCall(times, [person.phases for person in people], [p.error for p in people if p.error])
    finally:
        await asyncio.gather(*(person.leave() for person in people))


async def timed_calls(base_url: str, rooms: list[str], cookies: dict[str, str]):
    results = []
    for room_id in rooms:
        results.append(await timed_call(base_url, [Seat(room_id, side, cookies[side]) for side in SHADES]))
        await asyncio.sleep(0.3)  # let the server close the call's peers
    return results


# Part 2: capacity, participants in client processes.

def client_process(index: int, base_url: str, seats: list[Seat], commands, results):
    """Entry point of a client process: hold the seats' calls, count frames
    between the monotonic times the parent sends, report the counts."""
    restrict_host_addresses(["127.0.0.1"])  # as the server does through ICE_HOST_ADDRESSES
    asyncio.run(hold_calls(index, base_url, seats, commands, results))


async def sleep_until(moment: float):
    # asyncio's clock and time.monotonic() are the same clock, shared by all processes.
    await asyncio.sleep(max(0.0, moment - time.monotonic()))


async def hold_calls(index: int, base_url: str, seats: list[Seat], commands, results):
    people = [Participant(base_url, seat) for seat in seats]
    try:
        await asyncio.gather(*(person.enter() for person in people))
        results.put(("ready", index, [person.error for person in people if person.error]))
        try:
            start, end = await asyncio.to_thread(commands.get, True, SPAWN_TIMEOUT + SETUP_TIMEOUT)
        except queue.Empty:
            return  # the parent gave up on this step
        await sleep_until(start)
        before = [person.frames() for person in people]
        await sleep_until(end)
        after = [person.frames() for person in people]
        counts = [(a[0] - b[0], a[1] - b[1]) for a, b in zip(after, before)]
        results.put(("counts", index, counts))
    finally:
        await asyncio.gather(*(person.leave() for person in people))


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent on anything but idle and iowait (/proc/stat)."""
    with open("/proc/stat") as stat:
        ticks = [int(field) for field in stat.readline().split()[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / CLOCK_TICKS


def wait_for_quiet() -> float:
    """Wait (bounded) until the machine is nearly idle; returns the busy cores last seen."""
    deadline = time.monotonic() + QUIET_WAIT
    while True:
        before, started = machine_busy_seconds(), time.monotonic()
        time.sleep(1)
        busy = (machine_busy_seconds() - before) / (time.monotonic() - started)
        if busy < QUIET_CORES or time.monotonic() > deadline:
            return busy


def cpu_seconds(pid: int) -> float:
    """User and system time of a process and its threads (/proc/<pid>/stat fields 14 and 15)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


@dataclass
class StepResult:
    calls: int
    processes: int
    video: list[float]  # delivered ratio per participant
    audio: list[float]
    daphne_cpu: float  # percent of one core
    clients_cpu: float
    machine_cpu: float  # all processes, this bench's and others'
    errors: list[str]

    @property
    def passed(self) -> bool:
        return bool(self.video) and min(self.video) >= PASS_RATIO and min(self.audio) >= PASS_RATIO and not self.errors


def capacity_step(base_url: str, daphne_pid: int, rooms: list[str], cookies: dict[str, str]) -> StepResult:
    seats = [Seat(room_id, side, cookies[side]) for room_id in rooms for side in SHADES]
    count = min(len(seats), CLIENT_PROCESSES)
    groups = [seats[n::count] for n in range(count)]
    context = multiprocessing.get_context("spawn")  # no forked copies of this process's threads
    results = context.Queue()
    commands = [context.Queue() for _ in groups]
    processes = [
        context.Process(target=client_process, args=(n, base_url, group, commands[n], results), daemon=True)
        for n, group in enumerate(groups)
    ]
    errors: list[str] = []
    counts: dict[int, list[tuple[int, int]]] = {}
    try:
        for process in processes:
            process.start()
        ready = set()
        deadline = time.monotonic() + SPAWN_TIMEOUT + SETUP_TIMEOUT
        while len(ready) < count and time.monotonic() < deadline:
            try:
                kind, n, payload = results.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                break
            ready.add(n)
            errors += payload
        if len(ready) < count:
            errors.append(f"{count - len(ready)} client process(es) never got their calls up")
        start = time.monotonic() + WARMUP
        end = start + WINDOW
        for n in ready:
            commands[n].put((start, end))
        pids = [p.pid for p in processes if p.is_alive()]
        time.sleep(max(0.0, start - time.monotonic()))
        machine_before, started = machine_busy_seconds(), time.monotonic()
        daphne_before, clients_before = cpu_seconds(daphne_pid), sum(map(cpu_seconds, pids))
        time.sleep(max(0.0, end - time.monotonic()))
        machine_after, ended = machine_busy_seconds(), time.monotonic()
        daphne_after, clients_after = cpu_seconds(daphne_pid), sum(map(cpu_seconds, pids))
        deadline = time.monotonic() + 15
        while len(counts) < len(ready) and time.monotonic() < deadline:
            try:
                kind, n, payload = results.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                break
            counts[n] = payload
        for process in processes:
            process.join(timeout=CLOSE_TIMEOUT * 2)
    finally:
        for process in processes:
            if process.is_alive():
                process.kill()
                process.join(timeout=5)
    video, audio = [], []
    for n, group in enumerate(groups):
        for video_frames, audio_frames in counts.get(n, [(0, 0)] * len(group)):
            video.append(video_frames / (FPS * WINDOW))
            audio.append(audio_frames / (AUDIO_FPS * WINDOW))
    seconds = ended - started
    return StepResult(
        calls=len(rooms), processes=count, video=video, audio=audio, errors=errors,
        daphne_cpu=100 * (daphne_after - daphne_before) / seconds,
        clients_cpu=100 * (clients_after - clients_before) / seconds,
        machine_cpu=100 * (machine_after - machine_before) / seconds,
    )


# The database and the server.

def make_database(folder: Path, consultations: int) -> tuple[dict[str, str], list[str]]:
    """Migrate a new SQLite database in `folder` and fill it; returns the
    participants' session cookies and the consultations' room ids."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    # Django only in this process, after DATABASE_URL is set: the client processes import this module too.
    import django

    django.setup()
    # The settings log INFO to the console; aioice's four lines per connection would bury the figures.
    logging.getLogger("aioice").setLevel(logging.WARNING)
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from communes.models import Commune, District, Province
    from telecare.models import Consultation, Doctor, HealthStation, Hospital, Patient, StationStaff

    call_command("migrate", verbosity=0)
    users = get_user_model().objects
    province = Province.objects.create(slug="thai-nguyen", name="Tỉnh Thái Nguyên")
    district = District.objects.create(province=province, slug="phoyen", name="Phổ Yên")
    commune = Commune.objects.create(district=district, slug="c-phoyen", name="Phúc Thuận")
    hospital = Hospital.objects.create(district=district, name="Trung tâm Y tế Phổ Yên")
    station = HealthStation.objects.create(commune=commune, hospital=hospital, name="Trạm Y tế xã Phúc Thuận")
    worker = users.create_user("bench_station", first_name="Y sĩ", last_name="Trạm")
    StationStaff.objects.create(user=worker, station=station)
    doctor = Doctor.objects.create(
        user=users.create_user("bench_doctor", first_name="Minh", last_name="BS. Nguyễn Văn"),
        hospital=hospital, specialty="Nội khoa",
    )
    patients = Patient.objects.bulk_create(
        Patient(
            full_name=f"Hoàng Thị Hoa {n}", date_of_birth=date(1958, 3, 14), sex=Patient.Sex.FEMALE,
            commune=commune, station=station, created_by=worker,
        )
        for n in range(consultations)
    )
    now = timezone.now()
    # Inserted directly: only the room windows matter here (open from 15 min before the start).
    rooms = Consultation.objects.bulk_create(
        Consultation(
            doctor=doctor, patient=patient, station=station, starts_at=now, ends_at=now + timedelta(minutes=20),
            reason="bench", booked_by=worker,
        )
        for patient in patients
    )
    cookies = {}
    for side, user in [("doctor", doctor.user), ("station", worker)]:
        client = Client()
        client.force_login(user)
        cookies[side] = f"sessionid={client.cookies['sessionid'].value}"
    connection.close()
    return cookies, [consultation.room_id for consultation in rooms]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_daphne(port: int, env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(ROOT / "bin/serve"), "-b", "127.0.0.1", "-p", str(port)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    # No proxy: a proxy from the environment must not see loopback traffic.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"daphne exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            opener.open(f"http://127.0.0.1:{port}/accounts/login/", timeout=2).close()
            return process
        except urllib.error.HTTPError:
            return process  # any HTTP answer means it is up
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"daphne did not answer within 30 s:\n{log.read_text()[-3000:]}")


def stop(process: subprocess.Popen):
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def p95(samples: list[float]) -> float:
    """Nearest rank: the smallest sample at or above 95% of them."""
    ordered = sorted(samples)
    return ordered[-(-len(ordered) * 95 // 100) - 1]


def main(folder: Path, modes: list[str], steps: list[int], calls: int):
    database_url = f"sqlite:///{folder / 'bench.sqlite3'}"
    env = {
        **os.environ, "DATABASE_URL": database_url, "VAR_DIR": str(folder / "var"),
        "ICE_HOST_ADDRESSES": "127.0.0.1", "PYTHONUNBUFFERED": "1",
    }
    # The embedded default: in-memory channel layer; and Django's async-safety check on, as in production.
    for name in ("REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"):
        env.pop(name, None)
    os.environ.update(DATABASE_URL=env["DATABASE_URL"], VAR_DIR=env["VAR_DIR"], ICE_HOST_ADDRESSES="127.0.0.1")
    os.environ.pop("REDIS_URL", None)
    per_mode = 1 + calls + sum(steps)
    cookies, rooms = make_database(folder, per_mode * len(modes))
    restrict_host_addresses(["127.0.0.1"])
    results = {}
    for n, mode in enumerate(modes):
        results[mode] = run_mode(folder, env, mode, rooms[n * per_mode:(n + 1) * per_mode], cookies, steps, calls)
    if "forward" in results and "transcode" in results:
        compare(results["transcode"], results["forward"])


def run_mode(folder: Path, env: dict, mode: str, rooms: list[str], cookies: dict[str, str],
             steps: list[int], calls: int) -> dict[int, StepResult]:
    """Set-up times and the capacity steps against one daphne with CALL_MEDIA=mode."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    log = folder / f"daphne-{mode}.log"
    daphne = start_daphne(port, {**env, "CALL_MEDIA": mode}, log)
    how = {"forward": "the server forwards each side's encoded frames to the other (no decode, no encode)",
           "transcode": "the server decodes each and encodes it again for the other side"}[mode]
    steps_seen: dict[int, StepResult] = {}
    try:
        print(
            f"\n=== CALL_MEDIA={mode} ===\n"
            f"One daphne process (pid {daphne.pid}) on {base_url}, SQLite, in-memory channel layer; "
            f"{os.cpu_count()} CPU cores, shared by daphne, the client processes and this script.\n"
            f"Every call: 2 participants, each sending 320x240 VP8 at 15 fps and Opus audio; {how}.\n"
        )
        first, timed = rooms[0], rooms[1:1 + calls]
        capacity_rooms = iter(rooms[1 + calls:])

        [cold] = asyncio.run(timed_calls(base_url, [first], cookies))
        if timed:
            busy = wait_for_quiet()
            machine_before, started = machine_busy_seconds(), time.monotonic()
            outcomes = asyncio.run(timed_calls(base_url, timed, cookies))
            machine = 100 * (machine_busy_seconds() - machine_before) / (time.monotonic() - started)
            ms = [t * 1000 for call in outcomes for t in call.times if t is not None]
            errors = [e for call in outcomes for e in call.errors]
            print(f"Socket open to first decoded remote video frame, ms   median     p95     min     max   "
                  f"({calls} sequential calls, {2 * calls} participants)")
            if ms:
                print(f"  both participants join and offer at once       {statistics.median(ms):>7.0f} "
                      f"{p95(ms):>7.0f} {min(ms):>7.0f} {max(ms):>7.0f}")
            for phase in ("socket open", "joined", "answer applied"):
                at = [call_phases[phase] * 1000 for call in outcomes for call_phases in call.phases if phase in call_phases]
                if at:
                    print(f"    of which until {phase:<30}{statistics.median(at):>7.0f} "
                          f"{p95(at):>7.0f} {min(at):>7.0f} {max(at):>7.0f}")
            cold_ms = ", ".join("none" if t is None else f"{t * 1000:.0f}" for t in cold.times)
            print(f"  first call after daphne started (not in the figures): {cold_ms} ms")
            print(f"  machine CPU during these calls: {machine:.0f}% (busy before them: {100 * busy:.0f}%)")
            if errors or cold.errors:
                print(f"  {len(errors)} of {2 * calls} participants got no video within {SETUP_TIMEOUT:.0f} s: "
                      f"{sorted(set(errors + cold.errors))}")

        time.sleep(1)
        idle_before, idle_started = cpu_seconds(daphne.pid), time.monotonic()
        time.sleep(2)
        idle = 100 * (cpu_seconds(daphne.pid) - idle_before) / (time.monotonic() - idle_started)
        print(
            f"\nSimultaneous 1:1 calls, frames counted over {WINDOW:.0f} s after {WARMUP:.0f} s of warm-up; "
            f"pass: every participant gets >= {PASS_RATIO:.0%} of {FPS} video frames/s and of {AUDIO_FPS} audio frames/s.\n"
            f"CPU in % of one core ({os.cpu_count()} cores = {100 * os.cpu_count()}%); "
            f"daphne idle: {idle:.1f}%.\n"
        )
        print(" calls  participants  client   video delivered   audio           CPU over the window          pass")
        print("                       procs     min   median     min   daphne  clients  machine  others")
        passed = 0
        for n_calls in steps:
            time.sleep(2)  # let the server close the last step's peers
            wait_for_quiet()
            result = capacity_step(base_url, daphne.pid, [next(capacity_rooms) for _ in range(n_calls)], cookies)
            steps_seen[n_calls] = result
            # Clamped: the counters tick at 1/CLK_TCK s, so idle others can come out slightly negative.
            others = max(0.0, result.machine_cpu - result.daphne_cpu - result.clients_cpu)
            print(
                f" {n_calls:>5} {2 * n_calls:>13} {result.processes:>7}  {min(result.video):>6.1%} "
                f"{statistics.median(result.video):>8.1%} {min(result.audio):>7.1%}  {result.daphne_cpu:>6.0f}% "
                f"{result.clients_cpu:>7.0f}% {result.machine_cpu:>7.0f}% {others:>6.0f}%   "
                f"{'yes' if result.passed else 'NO'}"
            )
            if result.errors:
                print(f"        set-up problems: {sorted(set(result.errors))}")
            if not result.passed:
                harness = result.clients_cpu + result.daphne_cpu >= 0.9 * 100 * os.cpu_count()
                if harness and result.clients_cpu > result.daphne_cpu:
                    print(f"        the harness bound first: its clients used {result.clients_cpu:.0f}% "
                          f"against daphne's {result.daphne_cpu:.0f}% of the {100 * os.cpu_count()}%")
                break
            passed = n_calls
        bound = " (the bound of this bench; more may pass)" if passed == steps[-1] else ""
        print(f"\nLargest N that passed ({mode}): {passed} simultaneous 1:1 calls ({2 * passed} peers in daphne){bound}.")
    finally:
        stop(daphne)
    return steps_seen


def compare(transcode: dict[int, StepResult], forward: dict[int, StepResult]) -> None:
    """Daphne's CPU per call in both modes at each N both passed, and the calls
    per core each would carry at that cost."""
    print("\nForwarding against transcoding, daphne CPU per call (% of one core) at the same N:")
    print(" calls  transcode  forward   ratio   calls/core transcode  forward")
    ratios = []
    for calls in sorted(set(transcode) & set(forward)):
        t, f = transcode[calls], forward[calls]
        if not (t.passed and f.passed) or f.daphne_cpu <= 0:
            continue
        per_t, per_f = t.daphne_cpu / calls, f.daphne_cpu / calls
        ratios.append(per_t / per_f)
        print(f" {calls:>5} {per_t:>9.1f}% {per_f:>7.1f}% {per_t / per_f:>6.1f}x {100 / per_t:>16.0f} {100 / per_f:>8.0f}")
    if ratios:
        print(f"Median: forwarding carries {statistics.median(ratios):.1f}x the calls per core of transcoding.")
    best = max((n for n, r in forward.items() if r.passed), default=0)
    print(f"Most simultaneous calls forwarded at >= {PASS_RATIO:.0%} of video and audio frames: {best}.")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--modes", default="transcode,forward", help="transcode, forward, or both (compared)")
    parser.add_argument("--steps", default=",".join(map(str, STEPS)), help="numbers of simultaneous calls to try")
    parser.add_argument("--calls", type=int, default=CALLS, help="sequential calls timed for set-up (0: none)")
    arguments = parser.parse_args()
    chosen = [m for m in arguments.modes.split(",") if m]
    if not chosen or set(chosen) - {"transcode", "forward"}:
        parser.error("modes are transcode and forward")
    with tempfile.TemporaryDirectory(prefix="bench-calls-") as folder:
        main(Path(folder), chosen, [int(n) for n in arguments.steps.split(",")], arguments.calls)
