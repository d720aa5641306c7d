"""The audit log's hash chain, as Certificate Transparency logs keep theirs.

Entry n carries the hash of entry n-1 (GENESIS for entry 1) and its own hash:
the lowercase hex sha256 of the UTF-8 bytes of this JSON array, in RFC 8785
(JCS) form, i.e. no whitespace, non-ASCII characters as themselves, null for
an empty value:

    [seq, "YYYY-MM-DDTHH:MM:SS.ffffffZ" (UTC), actor id, actor username,
     action, patient id, consultation id, ip address, path, previous hash]

for example [1,"2026-11-29T23:00:00.000000Z",7,"station_phucthuan",
"view_patient",3,null,"10.0.0.5","/patients/3/","000…000"]. The head (the last
seq and hash) is kept outside the entries table, so that a removed tail or a
truncated table shows, and an operator can publish it to catch a rewrite of
both. docs/postgres-roles.md tells the whole story.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC

GENESIS = "0" * 64


def canonical_form(entry) -> bytes:
    """What an entry's hash covers; entry is an AuditEntry (or its historical model)."""
    fields = [
        entry.seq,
        entry.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        entry.actor_id,
        entry.actor_username,
        entry.action,
        entry.patient_id,
        entry.consultation_id,
        entry.ip_address,
        entry.path,
        entry.prev_hash,
    ]
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode()


def hash_of(entry) -> str:
    return hashlib.sha256(canonical_form(entry)).hexdigest()


def chain(entries, head_seq: int, head_hash: str) -> tuple[int, str]:
    """Give the entries, in order, their places after the head; answers the new head."""
    for entry in entries:
        head_seq += 1
        entry.seq, entry.prev_hash = head_seq, head_hash
        entry.entry_hash = head_hash = hash_of(entry)
    return head_seq, head_hash


@dataclass(frozen=True)
class Head:
    seq: int
    entry_hash: str

    def __str__(self):
        return f"{self.seq}:{self.entry_hash}"


@dataclass(frozen=True)
class Break:
    """The first broken link: the entry where the chain stops holding, and what that means."""

    seq: int
    meaning: str

    def __str__(self):
        return f"entry {self.seq}: {self.meaning}"


@dataclass
class Walk:
    """Following the chain entry by entry, in seq order."""

    seq: int = 0
    entry_hash: str = GENESIS

    def step(self, entry) -> Break | None:
        expected = self.seq + 1
        if entry.seq != expected:
            missing = f"entry {expected} is" if entry.seq == expected + 1 else f"entries {expected} to {entry.seq - 1} are"
            return Break(expected, f"{missing} missing: entries were removed")
        if entry.prev_hash != self.entry_hash:
            return Break(entry.seq, f"its previous hash does not match entry {self.seq}'s hash: "
                                    "entries were removed or inserted before it, or the one before it was rewritten")
        if hash_of(entry) != entry.entry_hash:
            return Break(entry.seq, "its contents no longer match its hash: the entry was changed")
        self.seq, self.entry_hash = entry.seq, entry.entry_hash
        return None

    def ends_at(self, head: Head | None) -> Break | None:
        """The walk has seen every entry the head covers; does it end where the head says?"""
        if head is None:
            return Break(1, "the log's head is missing: it was removed") if self.seq else None
        if self.seq < head.seq:
            return Break(self.seq + 1, f"the log ends at entry {self.seq} but its head is entry {head.seq}: "
                                       "the table was truncated or its tail removed")
        if self.seq > head.seq:
            return Break(head.seq + 1, f"entries go on past the head (entry {head.seq}): they were written "
                                       "outside the app, or the head was moved back")
        if self.entry_hash != head.entry_hash:
            return Break(head.seq, "the last entry's hash is not the head's: the tail was replaced")
        return None
