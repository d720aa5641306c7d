"""The audit log becomes a hash chain (telecare.audit_chain): each entry gets its
seq, the previous entry's hash and its own; the entries already there are
chained in the order they were written; the head is kept in a one-row table.
On PostgreSQL the log and its head also refuse TRUNCATE, and the head only
moves forward."""

from django.db import migrations, models

from telecare.audit_chain import GENESIS, chain

BATCH = 500

# The test suite opts in to truncating (its flushes, tests/conftest.py); nothing else should.
GUARDS = """
CREATE FUNCTION telecare_audit_no_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('telecare.allow_audit_truncate', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'the audit log is append-only';
END;
$$;
CREATE TRIGGER telecare_auditentry_no_truncate BEFORE TRUNCATE ON telecare_auditentry
    FOR EACH STATEMENT EXECUTE FUNCTION telecare_audit_no_truncate();
CREATE TRIGGER telecare_audithead_no_truncate BEFORE TRUNCATE ON telecare_audithead
    FOR EACH STATEMENT EXECUTE FUNCTION telecare_audit_no_truncate();
CREATE FUNCTION telecare_audit_head_moves_forward() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.seq > OLD.seq THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the audit log''s head only moves forward';
END;
$$;
CREATE TRIGGER telecare_audithead_moves_forward BEFORE UPDATE OR DELETE ON telecare_audithead
    FOR EACH ROW EXECUTE FUNCTION telecare_audit_head_moves_forward();
"""

DROP_GUARDS = """
DROP TRIGGER telecare_audithead_moves_forward ON telecare_audithead;
DROP FUNCTION telecare_audit_head_moves_forward();
DROP TRIGGER telecare_audithead_no_truncate ON telecare_audithead;
DROP TRIGGER telecare_auditentry_no_truncate ON telecare_auditentry;
DROP FUNCTION telecare_audit_no_truncate();
"""


def chain_existing_entries(apps, schema_editor):
    AuditEntry = apps.get_model("telecare", "AuditEntry")
    AuditHead = apps.get_model("telecare", "AuditHead")
    postgres = schema_editor.connection.vendor == "postgresql"
    if postgres:  # its trigger (migration 0002) refuses UPDATE; the owner may lift it for this
        schema_editor.execute("ALTER TABLE telecare_auditentry DISABLE TRIGGER telecare_auditentry_append_only")
    seq, entry_hash = 0, GENESIS
    while batch := list(AuditEntry.objects.filter(seq__isnull=True).order_by("pk")[:BATCH]):
        seq, entry_hash = chain(batch, seq, entry_hash)
        AuditEntry.objects.bulk_update(batch, ["seq", "prev_hash", "entry_hash"])
    AuditHead.objects.create(pk=1, seq=seq, entry_hash=entry_hash)
    if postgres:
        schema_editor.execute("ALTER TABLE telecare_auditentry ENABLE TRIGGER telecare_auditentry_append_only")


def add_guards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(GUARDS)


def drop_guards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_GUARDS)


class Migration(migrations.Migration):
    dependencies = [("telecare", "0005_recording_consent_and_recordings")]

    operations = [
        migrations.CreateModel(
            name="AuditHead",
            fields=[
                ("id", models.PositiveSmallIntegerField(default=1, editable=False, primary_key=True, serialize=False)),
                ("seq", models.PositiveBigIntegerField(default=0)),
                ("entry_hash", models.CharField(default=GENESIS, max_length=64)),
            ],
            options={
                "constraints": [models.CheckConstraint(condition=models.Q(("id", 1)), name="audit_head_is_one_row")],
            },
        ),
        migrations.AlterModelOptions(
            name="auditentry",
            options={"ordering": ["-seq"], "verbose_name": "audit entry", "verbose_name_plural": "audit log"},
        ),
        migrations.AddField("auditentry", "seq", models.PositiveBigIntegerField(null=True, editable=False)),
        migrations.AddField("auditentry", "prev_hash", models.CharField(max_length=64, null=True, editable=False)),
        migrations.AddField("auditentry", "entry_hash", models.CharField(max_length=64, null=True, editable=False)),
        migrations.RunPython(chain_existing_entries, migrations.RunPython.noop),
        migrations.AlterField(
            "auditentry", "seq",
            models.PositiveBigIntegerField(editable=False, unique=True, verbose_name="position"),
        ),
        migrations.AlterField(
            "auditentry", "prev_hash",
            models.CharField(editable=False, max_length=64, verbose_name="previous entry's hash"),
        ),
        migrations.AlterField(
            "auditentry", "entry_hash",
            models.CharField(editable=False, max_length=64, verbose_name="hash"),
        ),
        migrations.AddConstraint(
            model_name="auditentry",
            constraint=models.CheckConstraint(condition=models.Q(("seq__gte", 1)), name="audit_entry_seq_from_one"),
        ),
        migrations.RunPython(add_guards, drop_guards),
    ]
