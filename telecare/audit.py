"""Writing and checking the audit log of access to patients' records.

Every entry goes through append(), which chains it onto the log
(telecare.audit_chain) under a lock on the log's head, so that concurrent
writers never fork the chain or leave a gap.
"""

from collections.abc import Iterable

from django.db import connection, transaction

from config.client_address import client_ip  # X-Forwarded-For believed from TRUSTED_PROXIES only
from telecare.audit_chain import GENESIS, Break, Head, Walk, chain
from telecare.models import AuditEntry, AuditHead, Consultation, Patient


def record_access(request, action: str, patient: Patient, consultation: Consultation | None = None) -> None:
    record_accesses(request, action, [patient], consultation=consultation)


def record_accesses(request, action: str, patients: Iterable[Patient], consultation: Consultation | None = None) -> None:
    user = request.user
    append(*(
        AuditEntry(
            actor=user,
            actor_username=user.get_username(),
            action=action,
            patient=patient,
            consultation=consultation,
            ip_address=client_ip(request),
            path=request.get_full_path()[:300],
        )
        for patient in patients
    ))


def append(*entries: AuditEntry) -> None:
    """Write the entries at the end of the log, in order, in the caller's
    transaction if there is one (the head stays locked until it commits)."""
    if not entries:
        return
    ip_field = AuditEntry._meta.get_field("ip_address")
    for entry in entries:
        # Hash the address as the database gives it back (IPv6 in one spelling).
        entry.ip_address = ip_field.get_prep_value(entry.ip_address) or None
    with transaction.atomic():
        _hold_referenced_rows(entries)
        head = _locked_head()
        head.seq, head.entry_hash = chain(entries, head.seq, head.entry_hash)
        AuditEntry.objects.bulk_create(entries)
        head.save(update_fields=["seq", "entry_hash"])


def _hold_referenced_rows(entries) -> None:
    """Take now, before the head, the locks that the entries' foreign-key checks
    take at commit: otherwise a writer could wait there, head in hand, for a
    consultation that an action holds FOR UPDATE while it waits for the head."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for field in ("actor", "patient", "consultation"):
            ids = sorted({getattr(entry, f"{field}_id") for entry in entries} - {None})
            if ids:
                meta = AuditEntry._meta.get_field(field).related_model._meta
                table, key = connection.ops.quote_name(meta.db_table), connection.ops.quote_name(meta.pk.column)
                cursor.execute(f"SELECT 1 FROM {table} WHERE {key} = ANY(%s) FOR KEY SHARE", [ids])


def _locked_head() -> AuditHead:
    # SELECT … FOR UPDATE on PostgreSQL; SQLite's IMMEDIATE transactions are serialized already.
    head = AuditHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        # The migration makes the head; only a database emptied since (the tests' flush) lacks it.
        AuditHead.objects.bulk_create([AuditHead(pk=1)], ignore_conflicts=True)
        head = AuditHead.objects.select_for_update().get(pk=1)
    return head


def verify(*, expect: Head | None = None, batch_size: int = 1000) -> tuple[Head, Break | None]:
    """Walk the whole chain in seq order, batch_size entries at a time; answers
    the head it verified and the first broken link, if any. `expect` is a head
    published earlier, which the log must still hold."""
    walk = Walk()
    published = GENESIS if expect is not None and expect.seq == 0 else None

    def follow(upto: int | None = None) -> Break | None:
        nonlocal published
        while True:
            entries = AuditEntry.objects.filter(seq__gt=walk.seq).order_by("seq")
            if upto is not None:
                entries = entries.filter(seq__lte=upto)
            batch = list(entries[:batch_size])
            if not batch:
                return None
            for entry in batch:
                if broken := walk.step(entry):
                    return broken
                if expect is not None and entry.seq == expect.seq:
                    published = entry.entry_hash

    broken = follow()
    if broken is None:
        # Read after the entries: a writer moves the head with its entries in one
        # transaction, so the head covers every entry seen so far.
        stored = AuditHead.objects.filter(pk=1).first()
        head = Head(stored.seq, stored.entry_hash) if stored is not None else None
        if head is not None and walk.seq < head.seq:
            broken = follow(upto=head.seq)  # entries written during the walk
        broken = broken or walk.ends_at(head)
    if broken is None and expect is not None:
        broken = _against_published(walk, expect, published)
    return Head(walk.seq, walk.entry_hash), broken


def _against_published(walk: Walk, expect: Head, found: str | None) -> Break | None:
    if expect.seq > walk.seq:
        return Break(walk.seq + 1, f"a head published earlier is entry {expect.seq}, but the log ends at entry {walk.seq}: "
                                   "entries were removed and the head rewritten")
    if found != expect.entry_hash:
        return Break(expect.seq, "its hash is not the one of the head published earlier: the log was rewritten "
                                 "up to here, and its head with it")
    return None
