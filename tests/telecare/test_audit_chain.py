"""The audit log is a hash chain (telecare.audit_chain): verify_audit finds it
whole after honest writers, concurrent ones too, and finds each kind of
tampering by a superuser at the first broken entry; on PostgreSQL, with the app
running as a role of its own (docs/postgres-roles.md), the app appends to the
log and can do nothing else to it."""

import hashlib
import os
import secrets
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

import psycopg
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, connections, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from telecare import actions, audit
from telecare.audit_chain import GENESIS, Head, chain, hash_of
from telecare.models import AuditEntry, AuditHead, Consultation
from telecare.rooms import ConsultationRooms
from tests.conftest import MONDAY_MORNING, at, make_patient

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venv" / "bin" / "python"
MONDAY = MONDAY_MORNING.date()


def view(user, patient, path="/patients/", ip="10.0.0.5"):
    request = RequestFactory().get(f"{path}{patient.pk}/", REMOTE_ADDR=ip)
    request.user = user
    audit.record_access(request, AuditEntry.Action.VIEW_PATIENT, patient)


def verify_audit(*args) -> str:
    out = StringIO()
    call_command("verify_audit", *args, stdout=out)
    return out.getvalue()


def chained_seqs():
    return list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True))


def test_an_entrys_hash_is_the_sha256_of_its_documented_canonical_form():
    entry = AuditEntry(
        seq=1, at=datetime(2026, 11, 29, 23, 0, tzinfo=UTC), actor_id=7, actor_username="station_phúcthuận",
        action="view_patient", patient_id=3, consultation_id=None, ip_address="10.0.0.5", path="/patients/3/",
        prev_hash=GENESIS,
    )
    canonical = ('[1,"2026-11-29T23:00:00.000000Z",7,"station_phúcthuận","view_patient",3,null,"10.0.0.5",'
                 f'"/patients/3/","{GENESIS}"]')
    assert hash_of(entry) == hashlib.sha256(canonical.encode()).hexdigest()


def test_every_writer_chains_its_entries_onto_one_log(doctor, station_worker, patient, frozen_now):
    other = make_patient(patient.station, station_worker, name="Nông Văn Thắng")
    request = RequestFactory().get("/patients/?q=Hoa", REMOTE_ADDR="2001:DB8::5")
    request.user = station_worker
    audit.record_accesses(request, AuditEntry.Action.LIST_PATIENT, [patient, other])
    actions.register_patient(registered_by=station_worker, full_name="Lý Thị Mai", date_of_birth=MONDAY, sex="female")
    booked = actions.book_consultation(doctor=doctor, patient=patient, start=at(MONDAY, 9), booked_by=station_worker, reason="Ho")
    ConsultationRooms().joined(booked.room_id, doctor.user, "10.0.0.9")
    actions.give_recording_consent(consultation=booked, by=station_worker)

    entries = list(AuditEntry.objects.order_by("seq"))
    assert [e.action for e in entries] == ["list_patient", "list_patient", "register_patient", "join_room", "give_recording_consent"]
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert [e.prev_hash for e in entries] == [GENESIS] + [e.entry_hash for e in entries[:-1]]
    assert entries[0].ip_address == "2001:db8::5"  # hashed as the database keeps it
    head = AuditHead.objects.get()
    assert (head.seq, head.entry_hash) == (5, entries[-1].entry_hash)
    assert verify_audit() == f"The audit log is whole: 5 entries. Head: 5:{head.entry_hash}\n"


def test_an_empty_log_is_whole(db):
    assert verify_audit() == f"The audit log is whole: 0 entries. Head: 0:{GENESIS}\n"


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_neither_fork_the_chain_nor_leave_a_gap(station_worker, patient):
    writers, each = 8, 10
    barrier = threading.Barrier(writers)

    def write():
        try:
            barrier.wait(timeout=30)
            for _ in range(each):
                view(station_worker, patient)
        finally:
            connections.close_all()  # this thread's connection

    with ThreadPoolExecutor(max_workers=writers) as pool:
        for done in [pool.submit(write) for _ in range(writers)]:
            done.result()
    assert chained_seqs() == list(range(1, writers * each + 1))
    assert "whole: 80 entries" in verify_audit()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_view_of_a_consultation_and_an_action_holding_it_do_not_deadlock_on_the_log(doctor, station_worker, patient,
                                                                                      frozen_now):
    """The view's entry refers to the consultation, which the action holds FOR
    UPDATE while it waits to write its own entry."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite serializes write transactions")
    booked = actions.book_consultation(doctor=doctor, patient=patient, start=at(MONDAY, 9), booked_by=station_worker, reason="Ho")
    holding = threading.Event()

    def action():
        try:
            with transaction.atomic():
                Consultation.objects.select_for_update().get(pk=booked.pk)
                holding.set()
                with connection.cursor() as cursor:  # until the view waits for a lock
                    for _ in range(100_000):
                        cursor.execute("SELECT pg_stat_clear_snapshot()")  # else the transaction sees one snapshot
                        cursor.execute("SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                                       " AND datname = current_database()")
                        if cursor.fetchone():
                            break
                audit.append(AuditEntry(actor=station_worker, actor_username="station_phucthuan",
                                        action=AuditEntry.Action.GIVE_RECORDING_CONSENT, patient=patient, consultation=booked))
        finally:
            connections.close_all()

    def view_consultation():
        try:
            holding.wait(timeout=30)
            request = RequestFactory().get(f"/consultations/{booked.pk}/", REMOTE_ADDR="10.0.0.9")
            request.user = doctor.user
            audit.record_access(request, AuditEntry.Action.VIEW_CONSULTATION, patient, booked)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=2) as pool:
        for done in [pool.submit(action), pool.submit(view_consultation)]:
            done.result(timeout=60)
    assert "whole: 2 entries" in verify_audit()


@pytest.fixture
def five_entries(station_worker, patient):
    for n in range(5):
        view(station_worker, patient, path=f"/page-{n + 1}/")
    return Head(5, AuditHead.objects.get().entry_hash)


def as_superuser(*statements):
    """Raw SQL past the app's refusals and, on PostgreSQL, past its triggers."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # a TRUNCATE waits for no foreign key check of the test's writes
            cursor.execute("SET LOCAL session_replication_role = replica")
        for statement in statements:
            if connection.vendor == "sqlite":
                statement = statement.replace("TRUNCATE", "DELETE FROM")
            cursor.execute(statement)
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")


TAMPERING = {
    "one field of a middle entry updated": (["UPDATE telecare_auditentry SET path = '/elsewhere/' WHERE seq = 3"], 3, "changed"),
    "two entries updated": (["UPDATE telecare_auditentry SET ip_address = NULL WHERE seq IN (2, 4)"], 2, "changed"),
    "a middle entry deleted": (["DELETE FROM telecare_auditentry WHERE seq = 3"], 3, "removed"),
    "the last entry deleted": (["DELETE FROM telecare_auditentry WHERE seq = 5"], 5, "tail removed"),
    "the table truncated": (["TRUNCATE telecare_auditentry"], 1, "truncated"),
    "a deleted entry's place taken by the next": ([
        "DELETE FROM telecare_auditentry WHERE seq = 3",
        "UPDATE telecare_auditentry SET seq = 3 WHERE seq = 4",
    ], 3, "removed or inserted"),
    "the head moved back over the last entry": (["UPDATE telecare_audithead SET seq = 4"], 5, "past the head"),
    "the head removed": (["DELETE FROM telecare_audithead"], 1, "head is missing"),
}


@pytest.mark.parametrize("statements, seq, meaning", TAMPERING.values(), ids=TAMPERING.keys())
def test_tampering_by_a_superuser_is_found_at_the_first_broken_entry(five_entries, statements, seq, meaning):
    as_superuser(*statements)
    head, broken = audit.verify()
    assert (broken.seq, meaning in broken.meaning) == (seq, True), broken
    with pytest.raises(CommandError, match=f"broken at entry {seq}: "):
        verify_audit()


def test_an_entry_changed_and_rehashed_breaks_the_link_to_the_next(five_entries):
    third = AuditEntry.objects.get(seq=3)
    third.path = "/elsewhere/"
    as_superuser(f"UPDATE telecare_auditentry SET path = '/elsewhere/', entry_hash = '{hash_of(third)}' WHERE seq = 3")
    head, broken = audit.verify()
    assert (broken.seq, head.seq) == (4, 3)
    assert "previous hash does not match entry 3's" in broken.meaning


def rewrite_from(seq: int, path: str):
    """A careful superuser: entries from seq on changed, rechained, and the head moved with them."""
    before = AuditEntry.objects.get(seq=seq - 1)
    entries = list(AuditEntry.objects.filter(seq__gte=seq).order_by("seq"))
    for entry in entries:
        entry.path = path
    last_seq, last_hash = chain(entries, before.seq, before.entry_hash)
    as_superuser(*[
        f"UPDATE telecare_auditentry SET path = '{path}', prev_hash = '{e.prev_hash}', entry_hash = '{e.entry_hash}' WHERE seq = {e.seq}"
        for e in entries
    ], f"UPDATE telecare_audithead SET seq = {last_seq}, entry_hash = '{last_hash}'")


def test_a_log_rewritten_with_its_head_is_caught_by_the_head_published_before(five_entries):
    published = str(five_entries)
    rewrite_from(3, "/elsewhere/")
    assert "whole: 5 entries" in verify_audit()
    assert "whole: 5 entries" in verify_audit("--expect-head", f"2:{AuditEntry.objects.get(seq=2).entry_hash}")
    with pytest.raises(CommandError, match="broken at entry 5: its hash is not the one of the head published earlier"):
        verify_audit("--expect-head", published)


def test_a_tail_removed_with_its_head_is_caught_by_the_head_published_before(five_entries):
    fourth = AuditEntry.objects.get(seq=4)
    as_superuser("DELETE FROM telecare_auditentry WHERE seq = 5",
                 f"UPDATE telecare_audithead SET seq = 4, entry_hash = '{fourth.entry_hash}'")
    assert "whole: 4 entries" in verify_audit()
    with pytest.raises(CommandError, match="broken at entry 5: a head published earlier is entry 5, but the log ends at entry 4"):
        verify_audit("--expect-head", str(five_entries))


def test_the_published_head_must_be_seq_colon_hash(five_entries):
    for value in ["5", "5:abc", f"x:{five_entries.entry_hash}"]:
        with pytest.raises(CommandError, match="takes SEQ:HASH"):
            verify_audit("--expect-head", value)


def test_verify_audit_reads_the_log_a_batch_at_a_time(five_entries):
    with CaptureQueriesContext(connection) as queries:
        assert "whole: 5 entries" in verify_audit("--batch-size", "2")
    reads = [q["sql"] for q in queries if "telecare_auditentry" in q["sql"]]
    assert len(reads) == 4 and all("LIMIT 2" in sql for sql in reads), reads


@pytest.mark.postgres
def test_postgresql_refuses_truncating_the_log_and_moving_its_head_back(five_entries):
    if connection.vendor != "postgresql":
        pytest.skip("the triggers exist on PostgreSQL")
    for statement in ["TRUNCATE telecare_auditentry", "TRUNCATE telecare_audithead", "DELETE FROM telecare_audithead",
                      "UPDATE telecare_audithead SET seq = 4"]:
        with pytest.raises(DatabaseError, match="append-only|only moves forward"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute("SET LOCAL telecare.allow_audit_truncate = 'off'")  # as outside the test suite
                cursor.execute(statement)
    assert "whole: 5 entries" in verify_audit()


@pytest.mark.django_db(transaction=True)
def test_the_migration_chains_the_entries_written_before_it(station_worker, patient):
    before, chained = [("telecare", "0005_recording_consent_and_recordings")], [("telecare", "0006_audit_hash_chain")]
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    executor.migrate(before)
    try:
        old = executor.loader.project_state(before).apps.get_model("telecare", "AuditEntry")
        for n in range(3):
            old.objects.create(actor_id=station_worker.pk, actor_username="station_phucthuan", action="view_patient",
                               patient_id=patient.pk, ip_address="10.0.0.5", path=f"/old-{n}/")
        MigrationExecutor(connection).migrate(chained)
    finally:
        MigrationExecutor(connection).migrate(leaves)
    assert list(AuditEntry.objects.order_by("seq").values_list("path", flat=True)) == ["/old-0/", "/old-1/", "/old-2/"]
    view(station_worker, patient)
    assert "whole: 4 entries" in verify_audit()
    if connection.vendor == "postgresql":  # the migration lifted the append-only trigger for its backfill only
        with pytest.raises(DatabaseError, match="append-only"), connection.cursor() as cursor:
            cursor.execute("UPDATE telecare_auditentry SET path = 'x'")


# The deployment of docs/postgres-roles.md, for real: an owner that migrates, an app role that runs.

APP_WRITES = """
from datetime import date
from django.contrib.auth import get_user_model
from django.test import RequestFactory
from communes.models import Commune, District, Province
from telecare import actions, audit
from telecare.models import HealthStation, Hospital, StationStaff

province = Province.objects.create(slug="thai-nguyen", name="Thái Nguyên")
district = District.objects.create(province=province, slug="phoyen", name="Phổ Yên")
commune = Commune.objects.create(district=district, slug="phucthuan", name="Phúc Thuận")
hospital = Hospital.objects.create(district=district, name="Trung tâm Y tế Phổ Yên")
station = HealthStation.objects.create(commune=commune, hospital=hospital, name="Trạm Y tế xã Phúc Thuận")
worker = get_user_model().objects.create_user("station_phucthuan")
StationStaff.objects.create(user=worker, station=station)
patient = actions.register_patient(registered_by=worker, full_name="Hoàng Thị Hoa", date_of_birth=date(1958, 3, 14), sex="female")
request = RequestFactory().get(f"/patients/{patient.pk}/", REMOTE_ADDR="10.0.0.5")
request.user = worker
audit.record_access(request, "view_patient", patient)
"""


class Server:
    """The test suite's PostgreSQL server, reached as any role."""

    def __init__(self, settings_dict):
        self.host, self.port = settings_dict["HOST"] or "127.0.0.1", settings_dict["PORT"] or 5432
        self.superuser, self.maintenance_db = settings_dict["USER"], settings_dict["NAME"]

    def url(self, role, database):
        return f"postgres://{role}@{self.host}:{self.port}/{database}"

    def connect(self, role, database):
        return psycopg.connect(host=self.host, port=self.port, user=role, dbname=database, autocommit=True)

    def run(self, *statements):
        with self.connect(self.superuser, self.maintenance_db) as conn:
            for statement in statements:
                conn.execute(statement)


@pytest.fixture
def deployment():
    """A fresh database owned by a new owner role, and a new app role; all dropped afterwards, pass or fail."""
    if connection.vendor != "postgresql":
        pytest.skip("roles are PostgreSQL's")
    server, suffix = Server(connection.settings_dict), secrets.token_hex(4)
    owner, app, database = f"audit_owner_{suffix}", f"audit_app_{suffix}", f"audit_roles_{suffix}"
    server.run(f"CREATE ROLE {owner} LOGIN", f"CREATE ROLE {app} LOGIN", f"CREATE DATABASE {database} OWNER {owner}")
    try:
        yield server, owner, app, database
    finally:
        server.run(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)", f"DROP ROLE IF EXISTS {app}", f"DROP ROLE IF EXISTS {owner}")


def manage(database_url, *args, check=True) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url}
    done = subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


@pytest.mark.postgres
def test_the_app_role_appends_to_the_audit_log_and_can_do_nothing_else_to_it(deployment):
    server, owner, app, database = deployment
    as_owner, as_app = server.url(owner, database), server.url(app, database)
    manage(as_owner, "migrate", "--noinput")
    manage(as_owner, "grant_app_role", app)
    with server.connect(owner, database) as conn:
        conn.execute("CREATE TABLE added_by_a_later_migration (id int)")
    manage(as_owner, "grant_app_role", app)  # again, as after every migrate
    refused = manage(as_owner, "grant_app_role", owner, check=False)
    assert refused.returncode == 1 and "owner's rights" in refused.stderr
    with server.connect(owner, database) as conn:
        granted = dict(conn.execute(
            "SELECT table_name, string_agg(privilege_type, ',' ORDER BY privilege_type) FROM information_schema.table_privileges"
            " WHERE grantee = %s GROUP BY table_name", [app]).fetchall())
    assert granted["telecare_auditentry"] == "INSERT,SELECT"
    assert granted["telecare_audithead"] == "SELECT,UPDATE"
    assert granted["telecare_patient"] == granted["added_by_a_later_migration"] == "DELETE,INSERT,SELECT,UPDATE"

    manage(as_app, "shell", "-c", APP_WRITES)
    whole = manage(as_app, "verify_audit").stdout
    assert "whole: 2 entries" in whole
    head = whole.split("Head: ")[1].strip()

    with server.connect(app, database) as conn:
        for statement in ["TRUNCATE telecare_auditentry", "UPDATE telecare_auditentry SET path = 'x'",
                          "DELETE FROM telecare_auditentry", "ALTER TABLE telecare_auditentry DISABLE TRIGGER ALL",
                          "SET session_replication_role = replica", "TRUNCATE telecare_audithead",
                          "DELETE FROM telecare_audithead"]:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
        with pytest.raises(psycopg.errors.RaiseException, match="only moves forward"):
            conn.execute("UPDATE telecare_audithead SET seq = 1")
    manage(as_app, "verify_audit", "--expect-head", head)

    # The owner's triggers refuse it too, but the owner can lift them: the chain then tells.
    with server.connect(owner, database) as conn:
        for statement in ["TRUNCATE telecare_auditentry", "UPDATE telecare_auditentry SET path = 'x'"]:
            with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                conn.execute(statement)
        conn.execute("ALTER TABLE telecare_auditentry DISABLE TRIGGER USER")
        conn.execute("UPDATE telecare_auditentry SET path = '/elsewhere/' WHERE seq = 2")
    broken = manage(as_app, "verify_audit", check=False)
    assert broken.returncode == 1
    assert "broken at entry 2: its contents no longer match its hash: the entry was changed" in broken.stderr
