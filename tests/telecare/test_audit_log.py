import pytest
from django.contrib import admin
from django.db import connection, transaction
from django.test import RequestFactory

from telecare import audit
from telecare.models import AuditEntry


@pytest.fixture
def entry(patient, station_worker):
    entry = AuditEntry(actor=station_worker, actor_username="station_phucthuan", action="view_patient", patient=patient)
    audit.append(entry)
    return entry


def test_audit_entries_cannot_be_changed_or_deleted_through_the_app(entry):
    entry.path = "/elsewhere/"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        AuditEntry.objects.all().update(path="x")
    with pytest.raises(PermissionError):
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.get().path == ""


def test_the_admin_shows_the_audit_log_read_only(entry, django_user_model):
    manager = django_user_model.objects.create_superuser("manager", password="x")
    request = RequestFactory().get("/admin/")
    request.user = manager
    model_admin = admin.site._registry[AuditEntry]
    assert model_admin.has_view_permission(request, entry)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, entry)
    assert not model_admin.has_delete_permission(request, entry)


def test_patients_and_consultations_are_not_in_the_admin():
    from telecare.models import Consultation, Patient

    assert Patient not in admin.site._registry and Consultation not in admin.site._registry


@pytest.mark.postgres
def test_postgresql_refuses_raw_updates_and_deletes(entry):
    if connection.vendor != "postgresql":
        pytest.skip("the trigger exists on PostgreSQL; SQLite runs rely on the app's refusal")
    from django.db import DatabaseError

    for sql in ["UPDATE telecare_auditentry SET path = 'x'", "DELETE FROM telecare_auditentry"]:
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql)
    assert AuditEntry.objects.count() == 1
