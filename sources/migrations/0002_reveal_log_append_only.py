"""The reveal log is append-only in the database itself: on PostgreSQL a trigger refuses every
UPDATE and DELETE of its rows, whoever connects. (SQLite, the embedded default, relies on the
application, which offers neither.)"""

from django.db import migrations

STATEMENTS = [
    """
CREATE FUNCTION sources_reveal_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the reveal log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$
""",
    """
CREATE TRIGGER sources_revealevent_append_only
    BEFORE UPDATE OR DELETE ON sources_revealevent
    FOR EACH ROW EXECUTE FUNCTION sources_reveal_log_append_only()
""",
]
DROP = [
    "DROP TRIGGER IF EXISTS sources_revealevent_append_only ON sources_revealevent",
    "DROP FUNCTION IF EXISTS sources_reveal_log_append_only()",
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in STATEMENTS:
            schema_editor.execute(statement, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in DROP:
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("sources", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
