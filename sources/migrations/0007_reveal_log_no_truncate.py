"""TRUNCATE empties a table without deleting its rows one by one, so the row triggers of 0002 do
not see it: a statement trigger refuses it too. A connection that sets
``bellcms.reveal_log_truncate = allowed`` may truncate: the test settings do, for the test
database's flush between tests; nothing else sets it."""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION sources_reveal_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE'
            AND current_setting('bellcms.reveal_log_truncate', true) = 'allowed' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'the reveal log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""
TRIGGER = """
CREATE TRIGGER sources_revealevent_no_truncate
    BEFORE TRUNCATE ON sources_revealevent
    FOR EACH STATEMENT EXECUTE FUNCTION sources_reveal_log_append_only()
"""
DROP = "DROP TRIGGER IF EXISTS sources_revealevent_no_truncate ON sources_revealevent"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION, params=None)
        schema_editor.execute(TRIGGER, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("sources", "0006_codename_any_case")]

    operations = [migrations.RunPython(forwards, backwards)]
