"""python manage.py grant_app_role ROLE: on PostgreSQL, run by the tables' owner
after every `migrate`, gives the role the app connects as what it needs and no
more: SELECT, INSERT, UPDATE and DELETE on every table and USAGE on the
sequences, but on the audit log only SELECT and INSERT, and on its head only
SELECT and UPDATE (its writers lock it with SELECT … FOR UPDATE). No TRUNCATE,
REFERENCES or TRIGGER anywhere, and not being the owner, the role can neither
ALTER the tables nor disable their triggers. Idempotent: every run first takes
back what this owner granted the role, in the same transaction, so that tables
added by later migrations are covered and nothing else is left. See
docs/postgres-roles.md."""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from psycopg import sql

from telecare.models import AuditEntry, AuditHead

GRANTS = [
    "GRANT CONNECT ON DATABASE {database} TO {role}",
    "GRANT USAGE ON SCHEMA {schema} TO {role}",
    "REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {role}",
    "REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {role}",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}",
    "GRANT USAGE ON ALL SEQUENCES IN SCHEMA {schema} TO {role}",
    "REVOKE UPDATE, DELETE ON {entries} FROM {role}",
    "REVOKE INSERT, DELETE ON {head} FROM {role}",
]


class Command(BaseCommand):
    help = ("Grant the PostgreSQL role the app runs as normal privileges on every table, but only SELECT and INSERT "
            "on the audit log (run as the tables' owner after every migrate).")

    def add_arguments(self, parser):
        parser.add_argument("role", help="The role the app connects as (not the tables' owner)")

    def handle(self, *args, role, **options):
        if connection.vendor != "postgresql":
            raise CommandError("grant_app_role is for PostgreSQL; SQLite has no roles.")
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT rolsuper, pg_has_role(rolname, current_user, 'USAGE'), current_database(), current_schema()"
                " FROM pg_roles WHERE rolname = %s", [role])
            found = cursor.fetchone()
            if found is None:
                raise CommandError(f"There is no role {role!r}: create it first (docs/postgres-roles.md).")
            superuser, owns, database, schema = found
            if superuser or owns:
                raise CommandError(f"{role!r} is a superuser or has the owner's rights: the app must run as a role of its own.")
            names = {
                "role": sql.Identifier(role), "database": sql.Identifier(database), "schema": sql.Identifier(schema),
                "entries": sql.Identifier(AuditEntry._meta.db_table), "head": sql.Identifier(AuditHead._meta.db_table),
            }
            for statement in GRANTS:
                cursor.execute(sql.SQL(statement).format(**names).as_string(cursor.connection))
        self.stdout.write(f"{role} may now use every table in {database}.{schema}; the audit log only to read and append.")
