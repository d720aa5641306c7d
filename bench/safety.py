"""What the safety checks cost, each against a baseline measured in the same run.

    .venv/bin/python bench/safety.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/safety.py

Runs in a throwaway database (bench_<name> on PostgreSQL, a temporary file on
SQLite: created, migrated, dropped at the end). Prints medians of several rounds:

- a room socket's message checks (signaling.messages.parse: size, nesting,
  UTF-8, control characters, NFC, the SDP parsed), per chat message, ICE
  candidate and offer SDP, against json.loads of the same text alone;
- one audit entry written as a page view writes it (telecare.audit.append: the
  head locked, the entry hashed and chained, the head moved), against the same
  row inserted alone in its own transaction, as before the chain;
- verify_audit's walk, entries per second over 10,000 entries;
- masking one access-log line (config.log_redaction.redact), against
  formatting it.
"""

import asyncio
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from communes.models import Commune, District, Province  # noqa: E402
from config.log_redaction import redact  # noqa: E402
from signaling import messages  # noqa: E402
from telecare import audit  # noqa: E402
from telecare.audit_chain import GENESIS, hash_of  # noqa: E402
from telecare.models import AuditEntry, HealthStation, Hospital, Patient  # noqa: E402

ROUNDS = 7
PARSES = 2000
APPENDS = 200
VERIFY_ENTRIES = 10_000
LINES = 5000


def median_ratio(rounds: list[tuple[float, float]]) -> tuple[float, float, float]:
    baseline = statistics.median(b for b, _ in rounds)
    measured = statistics.median(m for _, m in rounds)
    return baseline, measured, measured / baseline


def per_call(function, argument, count: int) -> float:
    start = time.perf_counter()
    for _ in range(count):
        function(argument)
    return (time.perf_counter() - start) / count


def offer_sdp() -> str:
    """A browser-like offer (audio and video, every codec aiortc knows), without gathering candidates."""
    from aiortc import RTCPeerConnection

    async def make():
        peer = RTCPeerConnection()
        peer.addTransceiver("audio")
        peer.addTransceiver("video")
        offer = await peer.createOffer()
        await peer.close()
        return offer.sdp

    return asyncio.run(make())


def bench_messages():
    sdp = offer_sdp()
    samples = {
        "chat (Vietnamese, 60 chars)": messages.dump("chat", text="Thưa cô, em chưa nghe rõ phần bài tập số ba ạ. " * 1 + "Cảm ơn cô."),
        "ice candidate": messages.dump("ice", candidate="candidate:1 1 UDP 2122252543 192.168.1.20 53421 typ host",
                                       sdpMid="0", sdpMLineIndex=0),
        f"offer SDP ({len(sdp)} bytes)": messages.dump("offer", sdp=sdp),
    }
    print(f"room socket messages, µs per message          json.loads   checked   ratio   ({ROUNDS} rounds of {PARSES})")
    for label, raw in samples.items():
        messages.parse(raw)  # it is valid
        rounds = [(per_call(messages.json.loads, raw, PARSES), per_call(messages.parse, raw, PARSES)) for _ in range(ROUNDS)]
        baseline, measured, ratio = median_ratio(rounds)
        print(f"  {label:<44}{baseline * 1e6:>9.1f} {measured * 1e6:>9.1f} {ratio:>6.1f}x")


def make_patient():
    User = get_user_model()
    province = Province.objects.create(slug="bench", name="Tỉnh Thái Nguyên")
    district = District.objects.create(province=province, slug="bench", name="Phổ Yên")
    commune = Commune.objects.create(district=district, slug="bench", name="Phúc Thuận")
    hospital = Hospital.objects.create(district=district, name="Trung tâm Y tế Phổ Yên")
    station = HealthStation.objects.create(commune=commune, hospital=hospital, name="Trạm Y tế xã Phúc Thuận")
    worker = User.objects.create_user("bench_station")
    patient = Patient.objects.create(full_name="Hoàng Thị Hoa", date_of_birth=date(1958, 3, 14), sex="female",
                                     commune=commune, station=station, created_by=worker)
    return worker, patient


def entry(worker, patient) -> AuditEntry:
    return AuditEntry(actor=worker, actor_username=worker.username, action=AuditEntry.Action.VIEW_PATIENT,
                      patient=patient, ip_address="10.0.0.5", path=f"/patients/{patient.pk}/")


_unchained_seq = 10**12  # far past the chain: the baseline's rows never meet it


def insert_alone(worker, patient):
    """The row as record_access wrote it before the chain: one INSERT, its own transaction."""
    global _unchained_seq
    _unchained_seq += 1
    row = entry(worker, patient)
    row.seq, row.prev_hash, row.at = _unchained_seq, GENESIS, timezone.now()
    row.entry_hash = hash_of(row)  # the columns are NOT NULL; hashing outside the timing would flatter the chain
    with transaction.atomic():
        AuditEntry.objects.bulk_create([row])


def bench_audit(worker, patient):
    rounds = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(APPENDS):
            insert_alone(worker, patient)
        baseline = (time.perf_counter() - start) / APPENDS
        start = time.perf_counter()
        for _ in range(APPENDS):
            audit.append(entry(worker, patient))
        chained = (time.perf_counter() - start) / APPENDS
        rounds.append((baseline, chained))
    baseline, measured, ratio = median_ratio(rounds)
    print(f"\naudit entry, ms per entry                      insert alone   chained   ratio   ({ROUNDS} rounds of {APPENDS})")
    print(f"  {'one page view':<44}{baseline * 1e3:>9.2f} {measured * 1e3:>9.2f} {ratio:>6.1f}x")


def bench_verify(worker, patient):
    # Before bench_audit, whose baseline rows are outside the chain (verify would stop at them).
    have = AuditEntry.objects.count()
    while have < VERIFY_ENTRIES:
        batch = min(500, VERIFY_ENTRIES - have)
        audit.append(*(entry(worker, patient) for _ in range(batch)))
        have += batch
    times = []
    for _ in range(3):
        start = time.perf_counter()
        head, broken = audit.verify()
        times.append(time.perf_counter() - start)
        assert broken is None, broken
    print(f"\nverify_audit over {head.seq} entries: {head.seq / statistics.median(times):,.0f} entries/s "
          f"(median of 3, {statistics.median(times):.2f} s)")


def bench_redaction():
    line = ('127.0.0.1:55326 - - [04/Dec/2026:09:35:07] "GET /station/?q=0987%20654%20321 HTTP/1.1" 200 3708 '
            '"GET /calendars/Jq3v9xVQ0sTqk3m1l0n2yQ.ics" +84987654321')
    template = '%s - - [%s] "%s" %s %s'
    arguments = ("127.0.0.1:55326", "04/Dec/2026:09:35:07", "GET /station/?q=0987%20654%20321 HTTP/1.1", 200, 3708)
    rounds = [(per_call(lambda args: template % args, arguments, LINES), per_call(redact, line, LINES))
              for _ in range(ROUNDS)]
    baseline, measured, ratio = median_ratio(rounds)
    print(f"\nlog line, µs per line                          formatting    masking   ratio   ({ROUNDS} rounds of {LINES})")
    print(f"  {'an access line with a number, a term, a token':<44}{baseline * 1e6:>9.1f} {measured * 1e6:>9.1f} {ratio:>6.1f}x")


def main():
    print(f"{connection.vendor}, {os.cpu_count()} CPUs\n")
    bench_messages()
    worker, patient = make_patient()
    bench_verify(worker, patient)
    bench_audit(worker, patient)
    bench_redaction()


if __name__ == "__main__":
    real_name = connection.settings_dict["NAME"]
    if connection.vendor == "postgresql":
        connection.settings_dict["TEST"]["NAME"] = f"bench_{real_name}"
    else:
        connection.settings_dict["TEST"]["NAME"] = str(Path(tempfile.mkdtemp()) / "bench.sqlite3")
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        main()
    finally:
        connection.creation.destroy_test_db(real_name, verbosity=0)
