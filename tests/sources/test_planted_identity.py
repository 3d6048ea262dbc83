"""A planted identity goes through everything the newsroom does with a source (register, edit,
grant, reveal, rotate keys, revert) and is then looked for everywhere it must never be: every
text, varchar, json and bytea column of every table, a pg_dump, the sessions, the logs, the
Celery messages, the cache and the error report of a 500."""

import base64
import logging
import secrets
import subprocess
import sys
from datetime import timedelta
from unittest import mock

import pytest
from celery.app.task import Task
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from django.views.debug import ExceptionReporter
from reversion.models import Version

from sources.models import Source
from tests.factories import TEST_PASSWORD
from tests.sources.conftest import source_fields

pytestmark = pytest.mark.django_db(transaction=True)

# Only here, in the form a journalist types, and (sealed) in the database.
NAME = "Ottoline Brackenbury-Szczepańska"
POSITION = "Head of protocol, Directorate 7Q"
CONTACT = "ottoline.b77@protonmail.example"
NEEDLES = [NAME, NAME.casefold(), "Brackenbury", POSITION, CONTACT]


def found_in(text: str) -> list[str]:
    return [needle for needle in NEEDLES if needle in text]


def database_hits() -> list[str]:
    """Every (table.column) of a text, varchar, json or bytea type that holds a needle."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'public' AND data_type IN "
            "('text', 'character varying', 'json', 'jsonb', 'bytea')"
        )
        columns = cursor.fetchall()
        hits = []
        for table, column, data_type in columns:
            for needle in NEEDLES:
                if data_type == "bytea":
                    condition = f"position(convert_to(%s, 'UTF8') in \"{column}\") > 0"
                else:
                    condition = f"\"{column}\"::text LIKE '%%' || %s || '%%'"
                cursor.execute(f'SELECT count(*) FROM "{table}" WHERE {condition}', [needle])
                if cursor.fetchone()[0]:
                    hits.append(f"{table}.{column}")
                    break
    return hits


def pg_dump_text() -> str:
    settings = connection.settings_dict
    return subprocess.run(
        [
            "pg_dump",
            "--no-owner",
            "-h",
            settings["HOST"] or "127.0.0.1",
            "-p",
            str(settings["PORT"] or 5432),
            "-U",
            settings["USER"] or "postgres",
            settings["NAME"],
        ],
        capture_output=True,
        check=True,
        env={"PGPASSWORD": settings["PASSWORD"] or "", "PATH": "/usr/bin:/bin"},
    ).stdout.decode("utf-8", "replace")


def test_a_planted_identity_is_nowhere_but_sealed(
    client, journalist, editor, keeper, caplog, settings
):
    if connection.vendor != "postgresql":
        pytest.skip("the scan reads PostgreSQL's catalogue and pg_dump")
    caplog.set_level(logging.DEBUG)
    queued = []
    real_apply_async = Task.apply_async

    def record(task, args=None, kwargs=None, *rest, **options):
        queued.append(repr((task.name, args, kwargs, options)))
        return real_apply_async(task, args, kwargs, *rest, **options)

    with mock.patch("celery.app.task.Task.apply_async", record):
        # Register, through the admin's add form.
        client.force_login(journalist)
        response = client.post(
            reverse("admin:sources_source_add"),
            {
                "codename": "NIGHTJAR",
                "descriptors": "an official in the presidential administration",
                **source_fields(),
                "identity_name": NAME,
                "identity_position": POSITION,
                "identity_contacts": CONTACT,
                "identity_notes": f"Met through {NAME}'s brother.",
            },
        )
        assert response.status_code == 302
        source = Source.objects.get(codename="NIGHTJAR")

        # Edit the public record (an editor), and the descriptors.
        client.force_login(editor)
        descriptor = source.descriptors.get()
        change = {
            "codename": "NIGHTJAR",
            "basis": "documents",
            "reliability": "proven",
            "motive": source.motive,
            "anonymity_reason": source.anonymity_reason,
            "descriptors-TOTAL_FORMS": "1",
            "descriptors-INITIAL_FORMS": "1",
            "descriptors-0-id": descriptor.pk,
            "descriptors-0-source": source.pk,
            "descriptors-0-text": "a senior official",
            "contacts-TOTAL_FORMS": "0",
            "contacts-INITIAL_FORMS": "0",
        }
        url = reverse("admin:sources_source_change", args=[source.pk])
        assert client.post(url, change).status_code == 302

        # Grant (a keeper), then reveal (the journalist, password typed again).
        client.force_login(keeper)
        expires = timezone.localtime() + timedelta(days=1)
        response = client.post(
            reverse("admin:sources_accessgrant_add"),
            {
                "source": source.pk,
                "user": journalist.pk,
                "reason": "Checks the story.",
                "expires_at_0": expires.strftime("%Y-%m-%d"),
                "expires_at_1": expires.strftime("%H:%M:%S"),
            },
        )
        assert response.status_code == 302
        client.force_login(journalist)
        reveal = reverse("admin:sources_source_reveal", args=[source.pk])
        shown = client.post(reveal, {"reason": "Quote check.", "password": TEST_PASSWORD})
        assert NAME in shown.content.decode()  # the one place it may be: this response

        # Rotate the master key.
        new_key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
        settings.SOURCE_MASTER_KEY_PREVIOUS = settings.SOURCE_MASTER_KEY
        settings.SOURCE_MASTER_KEY = new_key
        call_command("rotate_source_keys", stdout=sys.stderr)
        settings.SOURCE_MASTER_KEY_PREVIOUS = ""

        # Revert to the first version (an editor, through the History page).
        client.force_login(editor)
        first = Version.objects.get_for_object(source).order_by("pk").first()
        revert = reverse("admin:sources_source_revision", args=[source.pk, first.pk])
        assert client.get(revert).status_code == 200
        data = {**change, "basis": "participant", "reliability": "usually"}
        data["descriptors-0-text"] = "an official in the presidential administration"
        assert client.post(revert, data).status_code == 302
        source.refresh_from_db()
        assert source.basis == "participant"

        # A 500 while the identity is in hand: what an error report would carry.
        client.force_login(journalist)
        client.raise_request_exception = False
        with (
            override_settings(DEBUG=False),
            mock.patch("sources.admin.reveal.TemplateResponse", side_effect=RuntimeError("boom")),
        ):
            failed = client.post(reveal, {"reason": "Again.", "password": TEST_PASSWORD})
        assert failed.status_code == 500
        assert found_in(failed.content.decode()) == []
        (record,) = [r for r in caplog.records if r.exc_info and r.name == "django.request"]
        report = ExceptionReporter(record.request, *record.exc_info, is_email=True)
        assert found_in(report.get_traceback_text()) == []
        assert found_in(report.get_traceback_html()) == []

    # The identity still opens, under the new key, after all that.
    client.raise_request_exception = True
    again = client.post(reveal, {"reason": "Final check.", "password": TEST_PASSWORD})
    assert NAME in again.content.decode()

    assert database_hits() == []
    assert found_in(pg_dump_text()) == []
    for session in Session.objects.all():
        assert found_in(repr(session.get_decoded())) == []
    assert found_in("\n".join(r.getMessage() for r in caplog.records)) == []
    assert found_in(caplog.text) == []
    assert found_in("\n".join(queued)) == []
    cache = caches["default"]
    assert found_in(repr(getattr(cache, "_cache", {}))) == []

    # The scan itself can see a leak: one planted in plain text is found at once.
    source.descriptors.create(text=f"a friend of {NAME}")
    assert database_hits() == ["sources_descriptor.text"]
    assert NAME in pg_dump_text()
