"""PostgreSQL-only guards that Django's model constraints cannot express portably:
no two consultations of one doctor (or one patient) overlap, and the audit log
refuses UPDATE and DELETE. SQLite serializes booking transactions instead
(settings: transaction_mode IMMEDIATE) and the app refuses audit changes."""

from django.db import migrations

# Only consultations that hold their slot take part; cancelling frees it.
FORWARD = """
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE telecare_consultation ADD CONSTRAINT consultation_doctor_no_overlap
    EXCLUDE USING gist (doctor_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&)
    WHERE (status <> 'cancelled');
ALTER TABLE telecare_consultation ADD CONSTRAINT consultation_patient_no_overlap
    EXCLUDE USING gist (patient_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&)
    WHERE (status <> 'cancelled');
CREATE FUNCTION telecare_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END;
$$;
CREATE TRIGGER telecare_auditentry_append_only BEFORE UPDATE OR DELETE ON telecare_auditentry
    FOR EACH ROW EXECUTE FUNCTION telecare_audit_append_only();
"""

BACKWARD = """
DROP TRIGGER telecare_auditentry_append_only ON telecare_auditentry;
DROP FUNCTION telecare_audit_append_only();
ALTER TABLE telecare_consultation DROP CONSTRAINT consultation_patient_no_overlap;
ALTER TABLE telecare_consultation DROP CONSTRAINT consultation_doctor_no_overlap;
"""


class PostgresOnlySQL(migrations.RunSQL):
    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    dependencies = [("telecare", "0001_initial")]

    operations = [PostgresOnlySQL(FORWARD, BACKWARD)]
