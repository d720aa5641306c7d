"""daphne stops cleanly on SIGTERM in the middle of a recorded call: every page
is told "going away" (1001, so that it reconnects), every media peer is closed,
the recording is kept, and the process exits within 10 s with nothing left
running (aiortc's decoder threads are not daemon threads: a peer left open kept
the process alive for good)."""

import asyncio
import os
import signal
import subprocess
import time

import pytest
import websockets
from django.conf import settings
from django.db import connection

from telecare import actions
from telecare.models import ConsultationRecording
from tests.live_server import ARTIFACTS, database_url, free_port, session_cookie, wait_for_http
from tests.signaling.call_client import CallClient

pytestmark = pytest.mark.django_db(transaction=True)

EXIT_SECONDS = 10  # issue 12: "SIGTERM on daphne ... exits within 10 s"


@pytest.fixture
def own_daphne(tmp_path):
    """A daphne (bin/serve) of this test's own, since the test stops it."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ, "DATABASE_URL": database_url(connection.settings_dict), "PYTHONUNBUFFERED": "1",
        "PUBLIC_BASE_URL": base_url, "SMS_API_BASE": "http://127.0.0.1:9", "VAR_DIR": str(tmp_path / "var"),
        "ICE_HOST_ADDRESSES": "127.0.0.1", "LOG_LEVEL": "INFO",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    ARTIFACTS.mkdir(exist_ok=True)
    log = ARTIFACTS / "shutdown-daphne.log"
    with log.open("w") as out:
        process = subprocess.Popen([str(settings.BASE_DIR / "bin/serve"), "-b", "127.0.0.1", "-p", str(port)],
                                   cwd=settings.BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for_http(f"{base_url}/accounts/login/", process, log)
        yield process, base_url, log
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


async def in_call(base_url, room_id, cookie, shade):
    url = base_url.replace("http://", "ws://") + f"/ws/rooms/{room_id}/"
    ws = await websockets.connect(url, additional_headers={"Cookie": cookie}, origin=base_url)
    call = CallClient(ws.send, ws.recv, shade=shade)
    await call.join()
    return ws, call


async def closed_with(ws) -> int | None:
    try:
        while True:
            await ws.recv()
    except websockets.ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None


def test_sigterm_during_a_recorded_call_tells_the_pages_to_reconnect_keeps_the_recording_and_exits(
        own_daphne, live_consultation, doctor, station_worker, tmp_path):
    process, base_url, log = own_daphne
    actions.give_recording_consent(consultation=live_consultation, by=station_worker)
    doctor_cookie, station_cookie = session_cookie(doctor.user), session_cookie(station_worker)

    async def scenario():
        doctor_ws, doctor_call = await in_call(base_url, live_consultation.room_id, doctor_cookie, 40)
        station_ws, station_call = await in_call(base_url, live_consultation.room_id, station_cookie, 220)
        try:
            await asyncio.gather(doctor_call.call(), station_call.call())
            assert await doctor_call.wait_for_frames("video", 20) >= 20
            assert await station_call.wait_for_frames("video", 20) >= 20
            await doctor_ws.send('{"v": 1, "type": "record", "on": true}')
            assert (await doctor_call.message("recording"))["on"] is True
            await asyncio.sleep(1)  # a second of the call on record
            # The call is live: both server peers decode, so aiortc's decoder threads run.
            started = time.monotonic()
            process.send_signal(signal.SIGTERM)
            codes = await asyncio.wait_for(asyncio.gather(closed_with(doctor_ws), closed_with(station_ws)), EXIT_SECONDS)
            exit_code = await asyncio.get_running_loop().run_in_executor(
                None, lambda: process.wait(timeout=max(0.1, EXIT_SECONDS - (time.monotonic() - started))))
            return codes, exit_code, time.monotonic() - started
        finally:
            await doctor_call.close()
            await station_call.close()

    codes, exit_code, took = asyncio.run(scenario())
    output = log.read_text()
    assert codes == [1001, 1001], output[-3000:]
    assert exit_code == 0, output[-3000:]
    assert took < EXIT_SECONDS
    assert "shutting down: 2 sockets told to go away" in output
    assert "threads still running" not in output and "did not finish" not in output, output[-3000:]
    recording = ConsultationRecording.objects.get(consultation=live_consultation)
    assert not recording.is_running and recording.duration_seconds >= 0.5 and recording.size_bytes > 0
    assert (tmp_path / "var" / "recordings" / recording.path).stat().st_size == recording.size_bytes
