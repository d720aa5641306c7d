"""A lesson's media router with aiortc participants in one process: the
teacher's frames reach every pupil without the server encoding anything, the
floor's voice reaches the teacher and the other pupils, a late joiner gets a
picture quickly, and 30 pupils all receive frames."""

import asyncio
import time

import pytest
from aiortc.codecs import vpx

from signaling.media.broadcast import BroadcastMediaRouter
from tests.signaling.lesson_client import LessonClient
from tests.waiting import eventually


@pytest.fixture
async def lesson():
    router = BroadcastMediaRouter("lesson-room-under-test", ice_servers=[])
    clients: list[LessonClient] = []

    async def join(participant_id: str, side: str, **options) -> LessonClient:
        client = LessonClient(side, **options)
        clients.append(client)
        await client.accept(await router.offer(participant_id, side, await client.offer()))
        return client

    yield router, join
    for client in clients:
        await client.close()
    await router.close()


@pytest.fixture
def encodes(monkeypatch):
    """Every VP8 encoder that encoded a frame, in this process."""
    seen = []
    original = vpx.Vp8Encoder.encode

    def encode(self, frame, force_keyframe=False):
        seen.append(self)
        return original(self, frame, force_keyframe)

    monkeypatch.setattr(vpx.Vp8Encoder, "encode", encode)
    return seen


def server_video_encoders(router):
    return {
        sender._RTCRtpSender__encoder
        for peer in router.participants.values() for sender in peer.pc.getSenders() if sender.kind == "video"
    } - {None}


async def test_every_pupil_gets_the_teachers_picture_and_voice_and_the_server_encodes_nothing(lesson, encodes):
    router, join = lesson
    teacher = await join("t", "teacher", shade=230)
    pupils = [await join(f"p{n}", "pupil", shade=20) for n in range(3)]
    for pupil in pupils:
        assert await pupil.wait_for("video", 15) >= 15
        assert await pupil.wait_for("audio", 25) >= 25
        assert min(pupil.video_shades) > 180  # the teacher's bright picture
        assert pupil.loud["audio"] > 0
        assert pupil.frames["audio2"] == 0  # nobody has the floor
    assert teacher.frames["audio"] == 0
    server = server_video_encoders(router)
    assert server, "the server's senders packetized video"
    assert not server & set(encodes), "a server sender encoded video"


async def test_the_floor_is_heard_by_the_teacher_and_the_other_pupils_but_not_echoed(lesson):
    router, join = lesson
    teacher = await join("t", "teacher")
    speaker, listener = await join("p1", "pupil"), await join("p2", "pupil", microphone=False)
    assert await listener.wait_for("audio", 10) >= 10
    router.give_floor("p1")
    assert await teacher.wait_for("audio", 25) >= 25
    assert await listener.wait_for("audio2", 25) >= 25
    assert teacher.loud["audio"] > 0 and listener.loud["audio2"] > 0
    assert speaker.frames["audio2"] == 0  # the speaker does not hear themselves
    router.mute("p1")
    assert router.floor is None
    await asyncio.sleep(0.3)
    heard = listener.frames["audio2"]
    await asyncio.sleep(0.5)
    assert listener.frames["audio2"] - heard <= 2


async def test_a_late_pupil_gets_a_picture_within_a_second(lesson):
    router, join = lesson
    await join("t", "teacher")
    early = await join("p1", "pupil", encoded_only=True)
    assert await early.wait_for("video", 30) >= 30  # the teacher's first keyframe is long gone
    started = time.monotonic()
    late = await join("p2", "pupil", encoded_only=True)
    assert await late.wait_for("video", 1, timeout=5) >= 1
    assert late.first_video_at - started < 1.0
    video = router.fanouts[router.presenter.incoming["video"]]
    assert video.keyframe_requests_sent >= 1


async def test_a_pupil_in_low_data_mode_gets_no_video_and_gets_it_back(lesson):
    router, join = lesson
    await join("t", "teacher")
    pupil = await join("p1", "pupil", encoded_only=True)
    assert await pupil.wait_for("video", 5) >= 5
    router.set_low_data("p1", True)
    await asyncio.sleep(0.3)
    before = pupil.frames["video"]
    await asyncio.sleep(0.6)
    assert pupil.frames["video"] - before <= 1
    assert await pupil.wait_for("audio", 40) >= 40  # the voice goes on
    router.set_low_data("p1", False)
    assert await pupil.wait_for("video", before + 10, timeout=5) >= before + 10


async def test_thirty_pupils_on_one_lesson_all_receive_frames(lesson):
    router, join = lesson
    await join("t", "teacher")
    pupils = [await join(f"p{n}", "pupil", encoded_only=True, microphone=False) for n in range(30)]
    for pupil in pupils:
        assert await pupil.wait_for("video", 15) >= 15
        assert await pupil.wait_for("audio", 25) >= 25
    assert len(router.fanouts[router.presenter.incoming["video"]].subscribers) == 30


async def test_the_recording_holds_the_teachers_picture_and_the_mixed_voices_for_the_lessons_duration(lesson, tmp_path):
    import av

    from signaling.media.recording import BroadcastRecorder

    router, join = lesson
    await join("t", "teacher")
    await join("p1", "pupil")
    recorder = BroadcastRecorder(router, tmp_path / "lesson.webm")
    recorder.start()
    await asyncio.sleep(1.5)
    router.give_floor("p1")  # the recorder follows the floor
    await asyncio.sleep(1.5)
    info = await recorder.stop()
    assert router.taps == []
    assert 2.9 < info.duration_seconds < 4
    with av.open(str(info.path)) as recording:
        assert {s.type: s.codec_context.name for s in recording.streams} == {"video": "vp8", "audio": "opus"}
        assert abs(recording.duration / 1_000_000 - info.duration_seconds) < 0.5
        video = recording.streams.video[0]
        assert (video.codec_context.width, video.codec_context.height) == (320, 240)
        decoded = sum(1 for _ in recording.decode(video=0))
    assert decoded >= 30  # 15 fps for 3 s, less a keyframe wait
    with av.open(str(info.audio_path)) as audio_only:
        assert [s.type for s in audio_only.streams] == ["audio"]
        resampler = av.AudioResampler(format="s16", layout="mono", rate=48000)
        samples = loud = 0
        for frame in audio_only.decode(audio=0):
            for pcm in resampler.resample(frame):
                samples += pcm.samples
                loud += max(memoryview(bytes(pcm.planes[0])[: pcm.samples * 2]).cast("h")) > 1000
    assert abs(samples / 48000 - info.duration_seconds) < 0.5
    assert loud > 50  # the 440 Hz tones, not silence
    assert info.audio_path.stat().st_size < info.size_bytes


async def test_low_data_pupils_share_one_still_picture_renewed_every_few_seconds(lesson):
    router, join = lesson
    router.still_seconds = 0.5
    await join("t", "teacher", shade=230)
    await join("p1", "pupil", encoded_only=True)
    await join("p2", "pupil", encoded_only=True)
    router.set_low_data("p1", True)
    router.set_low_data("p2", True)
    stills = router.stills
    await eventually(lambda: stills.jpeg is not None, "the first still picture", 5)
    assert stills.jpeg[:2] == b"\xff\xd8" and len(stills.jpeg) < 20_000
    first = stills.taken_at
    await eventually(lambda: stills.taken_at > first, "the still picture renewed", 5)
    router.set_low_data("p1", False)
    assert router.stills is stills  # p2 still needs it
    router.set_low_data("p2", False)
    assert router.stills is None and router.taps == []
