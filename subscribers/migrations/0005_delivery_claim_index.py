from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class AddIndexWithoutLocking(AddIndexConcurrently):
    """On PostgreSQL the index is built CONCURRENTLY: the delivery table holds every issue's
    rows and a sending may be running while this migrates, so writes must not wait for the
    build. Elsewhere (SQLite) a plain CREATE INDEX."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        self._run("database_forwards", app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        self._run("database_backwards", app_label, schema_editor, from_state, to_state)

    def _run(self, method, app_label, schema_editor, from_state, to_state):
        postgresql = schema_editor.connection.vendor == "postgresql"
        kind = AddIndexConcurrently if postgresql else migrations.AddIndex
        getattr(kind, method)(self, app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run in a transaction.
    atomic = False

    dependencies = [
        ("subscribers", "0004_dispatch"),
    ]

    operations = [
        AddIndexWithoutLocking(
            model_name="delivery",
            index=models.Index(
                condition=models.Q(("claim__isnull", False)),
                fields=["claim"],
                name="delivery_claim_idx",
            ),
        ),
    ]
