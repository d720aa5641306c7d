"""How long daphne takes to stop on SIGTERM, idle and in the middle of calls.

    .venv/bin/python bench/shutdown.py [--repeats 5]

Starts one daphne (bin/serve) on a free 127.0.0.1 port over a throwaway SQLite
database (bench/calls.py's), holds 0, 1 or 4 simultaneous 1:1 calls through it
(tests.signaling.call_client.CallClient participants in this process, video
and audio both ways), then sends SIGTERM and measures:

- until every participant's socket is closed, and with which code (1001,
  "going away", is what the pages reconnect on);
- until the process has exited, and its exit code.

Each condition runs --repeats times, interleaved; medians, and the ratio to
the idle server's stop measured in the same run. Before config/server.py's
clean stop, daphne did not exit at all after a call (aiortc's decoder threads
are not daemons): tests/integration/test_shutdown.py fails on that code.
"""

import argparse
import asyncio
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
sys.path = [p for p in sys.path if Path(p or ".").resolve() != BENCH_DIR]
sys.path.insert(0, str(ROOT))

from bench.calls import Participant, Seat, free_port, make_database, start_daphne  # noqa: E402

CONDITIONS = [0, 1, 4]  # simultaneous calls at the SIGTERM
LIMIT = 15.0  # seconds: past this the stop counts as hung (the process is then killed)


async def one_stop(folder: Path, env: dict, cookies: dict, rooms: list[str], calls: int, round_: int) -> dict:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    daphne = start_daphne(port, {**env, "PUBLIC_BASE_URL": base_url}, folder / f"daphne-{calls}-{round_}.log")
    participants = [Participant(base_url, Seat(room, side, cookies[side])) for room in rooms[:calls]
                    for side in ("doctor", "station")]
    try:
        setup = await asyncio.gather(*(p.enter() for p in participants))
        if any(t is None for t in setup):
            raise RuntimeError(f"a call did not start: {[p.error for p in participants]}")
        await asyncio.sleep(2)  # media flowing: the server decodes, its decoder threads run

        async def closed(participant) -> tuple[float, int | None]:
            await participant.ws.wait_closed()
            return time.monotonic(), participant.ws.close_code

        watchers = [asyncio.ensure_future(closed(p)) for p in participants]
        started = time.monotonic()
        daphne.send_signal(signal.SIGTERM)
        loop = asyncio.get_running_loop()
        try:
            code = await loop.run_in_executor(None, lambda: daphne.wait(timeout=LIMIT))
            exited = time.monotonic() - started
        except Exception:
            code, exited = None, None
        ends = await asyncio.gather(*watchers) if watchers else []
        return {
            "exit": exited, "code": code,
            "sockets": max((at - started for at, _ in ends), default=0.0),
            "close codes": sorted({c for _, c in ends}),
        }
    finally:
        for participant in participants:
            await participant.leave()
        if daphne.poll() is None:
            daphne.kill()
            daphne.wait()


def main(folder: Path, repeats: int) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}", "VAR_DIR": str(folder / "var"),
           "ICE_HOST_ADDRESSES": "127.0.0.1", "PYTHONUNBUFFERED": "1"}
    for name in ("REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"):
        env.pop(name, None)
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "VAR_DIR")})
    cookies, rooms = make_database(folder, max(CONDITIONS))
    results: dict[int, list[dict]] = {calls: [] for calls in CONDITIONS}
    for round_ in range(repeats):
        for calls in CONDITIONS:  # interleaved, so that the machine's noise falls on every condition alike
            results[calls].append(asyncio.run(one_stop(folder, env, cookies, rooms, calls, round_)))
    print(f"daphne (bin/serve) stopped with SIGTERM; medians of {repeats} runs on {os.cpu_count()} shared cores.\n")
    print(f"{'calls at SIGTERM':>17} {'sockets closed s':>17} {'close codes':>12} {'exited s':>9} {'x idle':>7} {'exit codes':>11}")
    idle = statistics.median(r["exit"] for r in results[0] if r["exit"] is not None)
    for calls, runs in results.items():
        exits = [r["exit"] for r in runs if r["exit"] is not None]
        hung = len(runs) - len(exits)
        exit_s = statistics.median(exits) if exits else float("nan")
        codes = sorted({c for r in runs for c in r["close codes"]})
        print(f"{calls:>17} {statistics.median(r['sockets'] for r in runs):>17.2f} {str(codes or '-'):>12} "
              f"{exit_s:>9.2f} {exit_s / idle:>7.1f} {str(sorted({r['code'] for r in runs})):>11}"
              + (f"  ({hung} hung past {LIMIT:.0f} s)" if hung else ""))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-shutdown-") as folder:
        main(Path(folder), arguments.repeats)
