"""200 joins and leaves of a consultation room, through the consumer and the
media router in one process: afterwards the process holds as many open peer
connections, threads and UDP sockets as before (a media process lives for
weeks; a peer, a decoder thread or an ICE socket left per call would add up)."""

import asyncio
import gc
import os
import threading
from pathlib import Path

import pytest
from aiortc import RTCPeerConnection

from signaling.media import router as media
from tests.signaling.sockets import caller, open_socket
from tests.waiting import eventually

JOINS = int(os.environ.get("LEAK_JOINS", 200))
AT_ONCE = 4  # pages of the station joining and leaving side by side


def open_peers() -> int:
    gc.collect()
    # type(), not isinstance(): gc also lists weak proxies, which raise once their object is gone.
    return sum(1 for o in gc.get_objects() if type(o) is RTCPeerConnection and o.connectionState != "closed")


def udp_sockets() -> int:
    """This process's UDP sockets: its socket fds whose inodes /proc/net/udp* list."""
    inodes = set()
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            inodes.add(line.split()[9])
    mine = 0
    for fd in Path("/proc/self/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:[") and target[8:-1] in inodes:
            mine += 1
    return mine


def pooled(thread: threading.Thread) -> bool:
    """A worker of a thread pool (the loop's default executor, asgiref's): pools
    grow to their bound under concurrent load and keep their threads."""
    return thread.name.startswith(("asyncio_", "ThreadPoolExecutor-"))


def counts() -> dict:
    threads = threading.enumerate()
    return {"peers": open_peers(), "threads": sorted(t.name for t in threads if not pooled(t)), "udp": udp_sockets()}


@pytest.mark.django_db(transaction=True)
async def test_two_hundred_joins_and_leaves_leave_nothing_behind(room_app, live_consultation, doctor, station_worker, settings):
    settings.RECONNECT_GRACE_SECONDS = 1
    settings.ROOM_SOCKETS_PER_USER = AT_ONCE + 1  # the station's pages of one batch, and one closing
    room = live_consultation.room_id
    doctor_socket = await open_socket(room_app, doctor.user, room)
    doctor_call = caller(doctor_socket, 40)
    await doctor_call.join()
    await doctor_call.call()
    before = None

    async def one_visit(n: int) -> None:
        socket = await open_socket(room_app, station_worker, room)
        call = caller(socket, 220)
        try:
            await call.join()
            await call.call()
            # Media flows both ways (the server decodes: its decoder threads run), then the station leaves.
            assert await call.wait_for_frames("video", 1, timeout=20) >= 1, f"visit {n} got no picture"
            await socket.send_to(text_data='{"v": 1, "type": "leave"}')
        finally:
            await call.close()
            await socket.disconnect()

    try:
        await one_visit(-1)  # the first visit loads codecs and starts the thread pools
        await eventually(lambda: len(media.routers[room].participants) == 1, "the first visitor gone", 10)
        before = counts()
        for start in range(0, JOINS, AT_ONCE):
            await asyncio.gather(*(one_visit(n) for n in range(start, min(start + AT_ONCE, JOINS))))
        await eventually(lambda: len(media.routers[room].participants) == 1, "every visitor gone from the router", 10,
                         seen=lambda: list(media.routers[room].participants))
        # Closed peers let their threads and sockets go a moment later.
        await eventually(lambda: counts() == before, "the counts back where they started", 15,
                         seen=lambda: {"before": before, "now": counts()}, interval=0.5)
        assert doctor_call.received.frames["video"] > 0
        bound = asyncio.get_running_loop()._default_executor._max_workers
        assert sum(1 for t in threading.enumerate() if t.name.startswith("asyncio_")) <= bound
    finally:
        await doctor_call.close()
        await doctor_socket.disconnect()
        await media.close_all()
