"""The room socket's protocol, refusals and bad input, with Channels' WebsocketCommunicator."""

import json
from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from signaling.messages import MAX_MESSAGE_BYTES
from telecare.models import AuditEntry, Consultation
from tests.signaling.sockets import open_socket

pytestmark = pytest.mark.django_db(transaction=True)


def consultation_at(doctor, patient, station_worker, start):
    return Consultation.objects.create(
        doctor=doctor, patient=patient, station=patient.station, starts_at=start, ends_at=start + timedelta(minutes=20),
        reason="Ho", booked_by=station_worker,
    )


async def expect_refusal(socket, close_code, code):
    error = json.loads(await socket.receive_from())
    assert error["type"] == "error" and error["code"] == code and error["message"]
    assert await socket.receive_output() == {"type": "websocket.close", "code": close_code}
    await socket.disconnect()


async def send(socket, **message):
    await socket.send_to(text_data=json.dumps({"v": 1, **message}))
    return json.loads(await socket.receive_from())


async def test_a_visitor_who_is_not_logged_in_gets_4401(room_app, live_consultation):
    await expect_refusal(await open_socket(room_app, AnonymousUser(), live_consultation.room_id), 4401, "not_logged_in")


async def test_an_unknown_room_gets_4404(room_app, doctor):
    await expect_refusal(await open_socket(room_app, doctor.user, "nosuchroom123"), 4404, "no_room")


async def test_a_stranger_gets_4403(room_app, live_consultation, stranger, other_doctor):
    await expect_refusal(await open_socket(room_app, stranger, live_consultation.room_id), 4403, "not_participant")
    await expect_refusal(await open_socket(room_app, other_doctor.user, live_consultation.room_id), 4403, "not_participant")


async def test_the_room_opens_fifteen_minutes_before_and_closes_thirty_after(room_app, doctor, patient, station_worker):
    now = timezone.now()
    early = await database(consultation_at, doctor, patient, station_worker, now + timedelta(minutes=16))
    await expect_refusal(await open_socket(room_app, doctor.user, early.room_id), 4403, "not_open_yet")
    await database(lambda: Consultation.objects.filter(pk=early.pk).delete())  # it would overlap the next
    soon = await database(consultation_at, doctor, patient, station_worker, now + timedelta(minutes=14))
    socket = await open_socket(room_app, doctor.user, soon.room_id)
    assert (await send(socket, type="join"))["type"] == "joined"
    await socket.disconnect()
    over = await database(consultation_at, doctor, patient, station_worker, now - timedelta(minutes=51))
    await expect_refusal(await open_socket(room_app, doctor.user, over.room_id), 4403, "closed")


async def test_a_cancelled_consultation_has_no_room(room_app, live_consultation, doctor):
    await database(lambda: Consultation.objects.filter(pk=live_consultation.pk).update(status="cancelled"))
    await expect_refusal(await open_socket(room_app, doctor.user, live_consultation.room_id), 4404, "cancelled")


async def test_joining_lists_the_others_and_tells_them(room_app, live_consultation, doctor, station_worker):
    doctor_socket = await open_socket(room_app, doctor.user, live_consultation.room_id)
    joined = await send(doctor_socket, type="join")
    assert joined["v"] == 1 and joined["participants"] == [] and joined["you"]["side"] == "doctor"
    assert joined["ice_servers"] == [] and joined["you"]["name"] == "BS. Nguyễn Văn Minh"
    station_socket = await open_socket(room_app, station_worker, live_consultation.room_id)
    station_joined = await send(station_socket, type="join")
    assert [(p["side"], p["name"]) for p in station_joined["participants"]] == [("doctor", joined["you"]["name"])]
    told = json.loads(await doctor_socket.receive_from())
    assert told["type"] == "participant-joined" and told["participant"]["side"] == "station"
    assert told["participant"]["name"] == "Trạm Y tế xã Phúc Thuận"
    # Media state goes to the other side.
    await station_socket.send_to(text_data=json.dumps({"v": 1, "type": "media", "muted": True}))
    media = json.loads(await doctor_socket.receive_from())
    assert media["type"] == "participant-media" and media["media"] == {"muted": True, "camera_off": False, "audio_only": False, "low_data": False}
    await station_socket.send_to(text_data=json.dumps({"v": 1, "type": "leave"}))
    assert (await station_socket.receive_output())["type"] == "websocket.close"
    left = json.loads(await doctor_socket.receive_from())
    assert left == {"v": 1, "type": "participant-left", "id": station_joined["you"]["id"]}
    await doctor_socket.disconnect()
    joins = await database(lambda: list(AuditEntry.objects.filter(action="join_room").values_list("actor_username", "ip_address")))
    assert sorted(joins) == [("doctor_phoyen", "203.0.113.7"), ("station_phucthuan", "203.0.113.7")]


async def test_a_participant_who_answers_after_the_joined_list_went_out_is_still_announced(room_app, live_consultation, doctor, station_worker, monkeypatch):
    from signaling import consumers

    monkeypatch.setattr(consumers, "PRESENCE_WAIT_SECONDS", 0)  # "joined" leaves before any answer can come back
    doctor_socket = await open_socket(room_app, doctor.user, live_consultation.room_id)
    doctor_id = (await send(doctor_socket, type="join"))["you"]["id"]
    station_socket = await open_socket(room_app, station_worker, live_consultation.room_id)
    station_joined = await send(station_socket, type="join")
    known = {p["id"] for p in station_joined["participants"]}
    if doctor_id not in known:
        told = json.loads(await station_socket.receive_from())
        assert told["type"] == "participant-joined" and told["participant"]["id"] == doctor_id
        known.add(doctor_id)
    assert known == {doctor_id}
    await doctor_socket.disconnect()
    await station_socket.disconnect()


@pytest.mark.parametrize(
    "raw, code",
    [
        ("not json", "bad_json"),
        ("[1, 2]", "bad_message"),
        ('{"type": "join"}', "bad_version"),
        ('{"v": 1, "type": "dance"}', "unknown_type"),
        ('{"v": 1, "type": "offer", "sdp": 42}', "bad_field"),
        ('{"v": 1, "type": "offer", "sdp": "v=0 this is not sdp"}', "bad_sdp"),
        ('{"v": 1, "type": "ice", "candidate": "candidate:1 1 udp 1 127.0.0.1 9 typ host", "sdpMLineIndex": 99}', "bad_field"),
        ('{"v": 1, "type": "offer", "sdp": "' + "x" * (MAX_MESSAGE_BYTES + 1) + '"}', "too_large"),
    ],
)
async def test_bad_input_gets_an_error_and_the_socket_stays_usable(room_app, live_consultation, doctor, raw, code):
    socket = await open_socket(room_app, doctor.user, live_consultation.room_id)
    await socket.send_to(text_data=raw)
    error = json.loads(await socket.receive_from())
    assert error["type"] == "error" and error["code"] == code
    assert (await send(socket, type="join"))["type"] == "joined"  # still alive
    await socket.disconnect()


async def test_binary_frames_and_messages_before_join_are_refused(room_app, live_consultation, doctor):
    socket = await open_socket(room_app, doctor.user, live_consultation.room_id)
    await socket.send_to(bytes_data=b"\x00\x01")
    assert json.loads(await socket.receive_from())["code"] == "bad_message"
    assert (await send(socket, type="offer", sdp="v=0"))["code"] == "bad_sdp"
    assert (await send(socket, type="ice", candidate=""))["code"] == "not_joined"
    assert (await send(socket, type="media", muted=True))["code"] == "not_joined"
    await socket.disconnect()


async def test_an_sdp_that_parses_but_cannot_be_answered_is_an_error(room_app, live_consultation, doctor):
    socket = await open_socket(room_app, doctor.user, live_consultation.room_id)
    await send(socket, type="join")
    sdp = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n"
    error = await send(socket, type="offer", sdp=sdp)
    assert error["type"] == "error" and error["code"] == "media_error", error
    await socket.disconnect()


async def test_a_flood_is_slowed_then_closed(room_app, live_consultation, doctor, settings):
    settings.SIGNALING_MESSAGE_BURST = 5
    settings.SIGNALING_MESSAGES_PER_SECOND = 1
    socket = await open_socket(room_app, doctor.user, live_consultation.room_id)
    codes = []
    for _ in range(12):
        await socket.send_to(text_data='{"v": 1, "type": "dance"}')
    while True:
        output = await socket.receive_output(timeout=2)
        if output["type"] == "websocket.close":
            assert output["code"] == 4429
            break
        codes.append(json.loads(output["text"])["code"])
    assert codes.count("too_many") == 3 and "unknown_type" in codes
    await socket.disconnect()


async def database(function, *args):
    from channels.db import database_sync_to_async

    return await database_sync_to_async(function)(*args)
