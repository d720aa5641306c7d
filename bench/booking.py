"""Booking throughput and free-slot cost on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/booking.py

Runs in a throwaway database (bench_<name>: created, migrated, dropped at the
end); the database DATABASE_URL names is never written to. Measures:

- bookings per second through telecare.actions.book_consultation (its
  transaction and the exclusion constraints of migration 0002), with 1 client
  and with 16 concurrent clients (threads, one connection each) booking
  distinct free slots, of a doctor each or of one shared doctor;
- a contested slot: 16 clients racing for the same slot, the time until the
  race is settled, checking that exactly one wins and 15 get SlotTaken;
- telecare.availability.free_slots over 30 days for a doctor with 300 bookings in them,
  against a doctor with the same timetable and none.

Every run uses new doctors or new slots; figures are medians with their spread.
"""

import itertools
import os
import statistics
import sys
import threading
import time
from datetime import date, time as clock, timedelta
from pathlib import Path
from typing import NamedTuple

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
# This script is named like the booking app, so its own folder must not shadow the app.
sys.path = [p for p in sys.path if Path(p or ".").resolve() != BENCH_DIR]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import IntegrityError, connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from communes.models import Commune, District, Province  # noqa: E402
from telecare.actions import book_consultation  # noqa: E402
from telecare.availability import free_slots  # noqa: E402
from telecare.errors import SlotTaken  # noqa: E402
from telecare.models import (  # noqa: E402
    Consultation,
    Doctor,
    HealthStation,
    Hospital,
    Patient,
    StationStaff,
    WeeklyAvailability,
)

CLIENTS = 16
REPEATS = 5
SOLO_BOOKINGS = 200
BOOKINGS_PER_CLIENT = 25
RACES = 20
FREE_SLOT_DAYS = 30
FREE_SLOT_BOOKINGS = 300
FREE_SLOT_CALLS = 20

NOW = timezone.now()
FIRST_DAY = timezone.localdate(NOW) + timedelta(days=1)

User = get_user_model()
_serial = itertools.count(1)


class Site(NamedTuple):
    station: HealthStation
    worker: User


def make_site() -> Site:
    province = Province.objects.create(slug="thai-nguyen", name="Tỉnh Thái Nguyên")
    district = District.objects.create(province=province, slug="phoyen", name="Phổ Yên")
    commune = Commune.objects.create(district=district, slug="c-phoyen", name="Phúc Thuận")
    hospital = Hospital.objects.create(district=district, name="Trung tâm Y tế Phổ Yên")
    station = HealthStation.objects.create(commune=commune, hospital=hospital, name="Trạm Y tế xã Phúc Thuận")
    worker = User.objects.create_user("bench_station", first_name="Y sĩ", last_name="Trạm")
    StationStaff.objects.create(user=worker, station=station)
    return Site(station, worker)


def make_doctor(site: Site) -> Doctor:
    """A doctor taking 20-minute consultations around the clock, every day."""
    user = User.objects.create_user(f"bench_doctor_{next(_serial)}", first_name="Minh", last_name="BS. Nguyễn Văn")
    doctor = Doctor.objects.create(user=user, hospital=site.station.hospital, specialty="Nội khoa")
    WeeklyAvailability.objects.bulk_create(
        WeeklyAvailability(doctor=doctor, weekday=day, starts_at=clock(0), ends_at=clock(23, 40), slot_minutes=20)
        for day in range(7)
    )
    return doctor


def make_patients(site: Site, count: int) -> list[Patient]:
    """One patient per booking, so the patient-overlap rule never interferes."""
    batch = next(_serial)
    return Patient.objects.bulk_create(
        Patient(
            full_name=f"Hoàng Thị Hoa {batch}-{n}", date_of_birth=date(1958, 3, 14), sex=Patient.Sex.FEMALE,
            commune=site.station.commune, station=site.station, created_by=site.worker,
        )
        for n in range(count)
    )


def free_starts(doctor: Doctor, count: int) -> list:
    """The doctor's first `count` free slot starts from tomorrow, within the booking horizon."""
    last_day = timezone.localdate(NOW) + timedelta(days=settings.BOOKING_HORIZON_DAYS - 1)
    starts = [slot.start for slot in free_slots(doctor, FIRST_DAY, last_day, now=NOW)]
    assert len(starts) >= count, f"only {len(starts)} free slots within BOOKING_HORIZON_DAYS, {count} needed"
    return starts[:count]


def run_clients(site: Site, jobs: list[list]) -> tuple[float, list[list[str]]]:
    """Run each client's (doctor, patient, start) bookings in its own thread and
    connection, all released at once. Returns the seconds from the release until
    the last client is done, and each booking's outcome."""
    ready = threading.Barrier(len(jobs) + 1, timeout=60)
    finished = [0.0] * len(jobs)
    outcomes = [[] for _ in jobs]
    failures = []

    def client(n, bookings):
        try:
            # As the login middleware would: the station worker fetched by this client.
            booked_by = User.objects.select_related("station_staff__station").get(pk=site.worker.pk)
            ready.wait()
            for doctor, patient, start in bookings:
                try:
                    book_consultation(
                        doctor=doctor, patient=patient, start=start, booked_by=booked_by, reason="bench", now=NOW
                    )
                    outcomes[n].append("booked")
                except SlotTaken as taken:
                    lost_at_insert = isinstance(taken.__cause__, IntegrityError)
                    outcomes[n].append("refused by constraint" if lost_at_insert else "refused by check")
            finished[n] = time.perf_counter()
        except Exception as error:
            failures.append(error)
            ready.abort()
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(n, bookings)) for n, bookings in enumerate(jobs)]
    for thread in threads:
        thread.start()
    try:
        ready.wait()
    except threading.BrokenBarrierError:
        pass  # a client failed; its error is raised below
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    if failures:
        raise next((f for f in failures if not isinstance(f, threading.BrokenBarrierError)), failures[0])
    return max(finished) - started, outcomes


def bookings_per_second(site: Site, clients: int, per_client: int, *, shared_doctor: bool) -> list[float]:
    rates = []
    for _ in range(REPEATS):
        if shared_doctor:
            doctor = make_doctor(site)
            starts = free_starts(doctor, clients * per_client)
            plan = [(doctor, starts[n::clients]) for n in range(clients)]
        else:
            plan = [(doctor, free_starts(doctor, per_client)) for doctor in (make_doctor(site) for _ in range(clients))]
        patients = iter(make_patients(site, clients * per_client))
        jobs = [[(doctor, next(patients), start) for start in starts] for doctor, starts in plan]
        seconds, outcomes = run_clients(site, jobs)
        assert all(outcome == "booked" for client in outcomes for outcome in client), outcomes
        rates.append(clients * per_client / seconds)
    return rates


def contested_slot(site: Site) -> tuple[list[float], int]:
    """Races of all clients for one slot; returns their times and how many
    losers the exclusion constraint (rather than the check before it) refused."""
    doctor = make_doctor(site)
    patients = iter(make_patients(site, RACES * CLIENTS))
    times, by_constraint = [], 0
    for start in free_starts(doctor, RACES):
        seconds, outcomes = run_clients(site, [[(doctor, next(patients), start)] for _ in range(CLIENTS)])
        results = [outcome for client in outcomes for outcome in client]
        assert results.count("booked") == 1, results
        assert sum(r.startswith("refused") for r in results) == CLIENTS - 1, results
        assert Consultation.objects.filter(doctor=doctor, starts_at=start).count() == 1
        times.append(seconds)
        by_constraint += results.count("refused by constraint")
    return times, by_constraint


def free_slot_timings(site: Site) -> dict[str, list[float]]:
    last_day = FIRST_DAY + timedelta(days=FREE_SLOT_DAYS - 1)
    idle, busy = make_doctor(site), make_doctor(site)
    offered = free_slots(busy, FIRST_DAY, last_day, now=NOW)
    booked = offered[:: len(offered) // FREE_SLOT_BOOKINGS][:FREE_SLOT_BOOKINGS]
    # Inserted directly: only their presence matters here, and the constraints still check them.
    Consultation.objects.bulk_create(
        Consultation(
            doctor=busy, patient=patient, station=site.station, starts_at=slot.start, ends_at=slot.end,
            reason="bench", booked_by=site.worker,
        )
        for patient, slot in zip(make_patients(site, len(booked)), booked)
    )
    timings = {}
    for label, doctor, expected in [
        ("no bookings", idle, len(offered)),
        (f"{len(booked)} bookings", busy, len(offered) - len(booked)),
    ]:
        assert len(free_slots(doctor, FIRST_DAY, last_day, now=NOW)) == expected  # also warms up
        samples = []
        for _ in range(FREE_SLOT_CALLS):
            started = time.perf_counter()
            free_slots(doctor, FIRST_DAY, last_day, now=NOW)
            samples.append(time.perf_counter() - started)
        timings[label] = samples
    return timings


def p95(samples: list[float]) -> float:
    """Nearest rank: the smallest sample at or above 95% of them."""
    ordered = sorted(samples)
    return ordered[-(-len(ordered) * 95 // 100) - 1]


def main():
    print(
        f"PostgreSQL {connection.pg_version // 10000}.{connection.pg_version % 10000}, "
        f"database {connection.settings_dict['NAME']}, {os.cpu_count()} CPUs, Python threads as clients\n"
    )
    site = make_site()

    print(f"book_consultation, bookings/s           median     min     max   ({REPEATS} runs)")
    for label, clients, per_client, shared in [
        (f"1 client x {SOLO_BOOKINGS}", 1, SOLO_BOOKINGS, False),
        (f"{CLIENTS} clients x {BOOKINGS_PER_CLIENT}, a doctor each", CLIENTS, BOOKINGS_PER_CLIENT, False),
        (f"{CLIENTS} clients x {BOOKINGS_PER_CLIENT}, one doctor", CLIENTS, BOOKINGS_PER_CLIENT, True),
    ]:
        rates = bookings_per_second(site, clients, per_client, shared_doctor=shared)
        print(f"  {label:<36}{statistics.median(rates):>7.0f} {min(rates):>7.0f} {max(rates):>7.0f}")

    times, by_constraint = contested_slot(site)
    ms = [t * 1000 for t in times]
    print(f"\n{CLIENTS} clients racing for one slot        median     min     max   ({RACES} races)")
    print(f"  ms until settled                    {statistics.median(ms):>7.1f} {min(ms):>7.1f} {max(ms):>7.1f}")
    print(
        f"  every race: 1 booked, {CLIENTS - 1} SlotTaken; {by_constraint} of {RACES * (CLIENTS - 1)} losers "
        "refused by the exclusion constraint, the rest by the check before the insert"
    )

    timings = free_slot_timings(site)
    print(f"\nfree_slots over {FREE_SLOT_DAYS} days, ms              median     p95   ({FREE_SLOT_CALLS} calls)")
    for label, samples in timings.items():
        print(f"  {label:<36}{statistics.median(samples) * 1000:>7.1f} {p95(samples) * 1000:>7.1f}")
    baseline, loaded = (statistics.median(samples) for samples in timings.values())
    print(f"  ratio of medians                    {loaded / baseline:>7.1f}x")


if __name__ == "__main__":
    if connection.vendor != "postgresql":
        sys.exit(
            f"bench/booking.py measures PostgreSQL (its exclusion constraints and locks), not {connection.vendor}: "
            "run it with DATABASE_URL=postgres://..."
        )
    real_name = connection.settings_dict["NAME"]
    # Not test_<name>: a test run going on at the same time keeps its database.
    connection.settings_dict["TEST"]["NAME"] = f"bench_{real_name}"
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        main()
    finally:
        connection.creation.destroy_test_db(real_name, verbosity=0)
