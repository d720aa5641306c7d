"""The server's step-downs reach both pages: `quality` to the participant whose
link it is, `participant-quality` to the others (the levels themselves are in
test_weak_links.py and test_link_adapter.py)."""

import pytest

from signaling.media import router as media
from signaling.media.quality import AUDIO_ONLY, call_levels
from tests.signaling.sockets import caller, open_socket

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_step_down_is_told_to_both_sides(room_app, live_consultation, doctor, station_worker):
    doctor_socket = await open_socket(room_app, doctor.user, live_consultation.room_id)
    station_socket = await open_socket(room_app, station_worker, live_consultation.room_id)
    doctor_call, station_call = caller(doctor_socket, 40), caller(station_socket, 220)
    try:
        await doctor_call.join()
        station_id = (await station_call.join())["you"]["id"]
        await doctor_call.call()
        await station_call.call()
        listener = media.routers[live_consultation.room_id].quality_listeners[station_id]
        await listener(AUDIO_ONLY, "loss")
        told = await station_call.message("quality")
        assert (told["level"], told["video"], told["reason"]) == ("audio", False, "loss")
        other = await doctor_call.message("participant-quality")
        assert other["id"] == station_id and other["quality"]["level"] == "audio"
        await listener(call_levels(300_000)[2], "recovered")
        told = await station_call.message("quality")
        assert (told["level"], told["width"], told["height"], told["fps"]) == ("low", 160, 120, 7)
    finally:
        await doctor_call.close()
        await station_call.close()
        await doctor_socket.disconnect()
        await station_socket.disconnect()
