"""Writing the audit log of access to patients' records."""

from collections.abc import Iterable

from telecare.models import AuditEntry, Consultation, Patient


def client_ip(request) -> str | None:
    # daphne --proxy-headers already puts the client behind a proxy into REMOTE_ADDR.
    return request.META.get("REMOTE_ADDR") or None


def record_access(request, action: str, patient: Patient, consultation: Consultation | None = None) -> None:
    record_accesses(request, action, [patient], consultation=consultation)


def record_accesses(request, action: str, patients: Iterable[Patient], consultation: Consultation | None = None) -> None:
    user = request.user
    entries = [
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
    ]
    AuditEntry.objects.bulk_create(entries)
