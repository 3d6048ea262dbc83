"""Configuration comes from the environment only, and production is safe by default."""

import base64
import os
import re
import secrets
import subprocess
import sys

import pytest
import yaml
from django.db import connection

from tests.conftest import IN_CI
from tests.processes import MANAGE, ROOT, clean_env

PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "bellcms.settings.production",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "news.example.org",
    "DATABASE_URL": "postgres://bellcms@127.0.0.1:5432/bellcms",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    "EMAIL_URL": "smtp://127.0.0.1:25",
    "CACHE_URL": "redis://127.0.0.1:6379/1",
    "BELLCMS_BASE_URL": "https://news.example.org",
    "SUBSCRIBERS_SUPPRESSION_KEY": secrets.token_urlsafe(32),
    "SOURCE_MASTER_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
    "SOURCE_INDEX_KEY": secrets.token_urlsafe(48),
}


def manage(*args, tmp_path, **env):
    return subprocess.run(
        [*MANAGE, *args],
        env=clean_env(BELLCMS_VAR_DIR=tmp_path, **env),
        cwd=ROOT,
        capture_output=True,
        text=True,
    )


def test_production_check_deploy_passes_with_production_variables(tmp_path):
    result = manage("check", "--deploy", "--fail-level", "WARNING", tmp_path=tmp_path, **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


# Without the source keys only sources stop working (a warning under --deploy, below).
@pytest.mark.parametrize(
    "missing",
    [key for key in PRODUCTION if key != "DJANGO_SETTINGS_MODULE" and not key.startswith("SOURCE")],
)
def test_production_refuses_to_start_without_a_variable(tmp_path, missing):
    env = {key: value for key, value in PRODUCTION.items() if key != missing}
    result = manage("check", tmp_path=tmp_path, **env)
    assert result.returncode != 0
    assert f"Set the {missing} environment variable" in result.stderr


def test_production_database_comes_from_database_url(tmp_path):
    result = manage(
        "shell",
        "-c",
        "from django.conf import settings; d = settings.DATABASES['default'];"
        " print(d['ENGINE'], d['HOST'], d['NAME'], settings.DEBUG)",
        tmp_path=tmp_path,
        **PRODUCTION,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-4:] == [
        "django.db.backends.postgresql",
        "127.0.0.1",
        "bellcms",
        "False",
    ]


def test_production_refuses_a_cache_each_process_keeps_to_itself(tmp_path):
    env = {**PRODUCTION, "CACHE_URL": "locmemcache://"}
    result = manage("check", tmp_path=tmp_path, **env)
    assert result.returncode != 0
    assert "CACHE_URL must name a cache shared by all processes" in result.stderr


def test_production_links_in_emails_must_be_https(tmp_path):
    env = {**PRODUCTION, "BELLCMS_BASE_URL": "http://news.example.org"}
    result = manage("check", tmp_path=tmp_path, **env)
    assert result.returncode != 0
    assert "BELLCMS_BASE_URL must start with https://" in result.stderr


def test_suite_runs_on_the_database_named_by_database_url(db):
    url = os.environ["DATABASE_URL"]
    assert connection.vendor == ("postgresql" if url.startswith("postgres") else "sqlite")
    if IN_CI:
        assert connection.vendor == "postgresql", "CI runs the suite on PostgreSQL"


def test_celery_worker_started_bare_uses_production_settings(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "bellcms", "inspect", "ping", "--timeout=1"],
        env=clean_env(BELLCMS_VAR_DIR=tmp_path),
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "Set the SECRET_KEY environment variable" in result.stderr


def test_docker_compose_describes_the_full_stack_with_the_same_variables():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "web", "worker", "beat", "mailpit"} <= set(services)
    app_services = [services[name] for name in ("web", "worker", "beat")]
    environments = [service["environment"] for service in app_services]
    assert environments[0] == environments[1] == environments[2]
    required = {
        "SECRET_KEY",
        "ALLOWED_HOSTS",
        "DATABASE_URL",
        "CELERY_BROKER_URL",
        "EMAIL_URL",
        "CACHE_URL",
        "BELLCMS_BASE_URL",
        "SUBSCRIBERS_SUPPRESSION_KEY",
    }
    assert required <= set(environments[0])
    assert environments[0]["DJANGO_SETTINGS_MODULE"] == "bellcms.settings.production"
    assert "gunicorn" in services["web"]["command"]
    assert services["worker"]["command"][:4] == ["celery", "-A", "bellcms", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "bellcms", "beat"]
    assert environments[0]["EMAIL_URL"].endswith("smtp://mailpit:1025}")


def test_image_build_sets_every_variable_production_requires(tmp_path):
    dockerfile = (ROOT / "Dockerfile").read_text()
    build_step = dockerfile[dockerfile.index("RUN pip install") : dockerfile.index("collectstatic")]
    build_env = dict(re.findall(r"\b([A-Z_]+)=(\S+)", build_step))
    env = {"DJANGO_SETTINGS_MODULE": "bellcms.settings.production", **build_env}
    result = manage("check", tmp_path=tmp_path, **env)
    assert result.returncode == 0, result.stderr


def test_embedded_default_keeps_its_files_in_the_var_dir(tmp_path):
    result = manage(
        "shell",
        "-c",
        "from django.conf import settings as s;"
        " print(s.EMAIL_FILE_PATH); print(s.CACHES['default']['LOCATION']);"
        " print(s.DATABASES['default']['NAME'])",
        tmp_path=tmp_path,
        DJANGO_SETTINGS_MODULE="bellcms.settings.local",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-3:] == [
        str(tmp_path / "outbox"),
        str(tmp_path / "cache"),
        str(tmp_path / "bellcms.sqlite3"),
    ]


WEAK = {
    "SECRET_KEY": ("short-" * 8, "bellcms.E001", "SECRET_KEY is 48 characters long"),
    "SECRET_KEY ": ("abcd" * 20, "bellcms.E001", "SECRET_KEY has only 4 distinct characters"),
    "ALLOWED_HOSTS": ("news.example.org,*", "bellcms.E002", "ALLOWED_HOSTS contains '*'"),
    "SUBSCRIBERS_SUPPRESSION_KEY": (
        "k" + secrets.token_hex(15),
        "bellcms.E003",
        "SUBSCRIBERS_SUPPRESSION_KEY is 31 bytes long",
    ),
    "DEBUG": ("true", "bellcms.E004", "DEBUG is on"),
}


@pytest.mark.parametrize("variable", list(WEAK))
def test_production_check_deploy_refuses_a_weak_setting(tmp_path, variable):
    value, error_id, message = WEAK[variable]
    env = {**PRODUCTION, variable.strip(): value}

    result = manage("check", "--deploy", tmp_path=tmp_path, **env)

    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if "bellcms.E" in line]
    assert len(errors) == 1, result.stderr
    assert f"({error_id}) {message}" in errors[0]
    assert f"Set the {variable.strip()} environment variable" in result.stderr or (
        "Unset the DEBUG environment variable" in result.stderr
    )


def weak_production(tmp_path):
    return {
        **PRODUCTION,
        "SECRET_KEY": "x" * 20,
        "ALLOWED_HOSTS": "*",
        "SUBSCRIBERS_SUPPRESSION_KEY": "short",
        "DEBUG": "true",
        "BELLCMS_VAR_DIR": tmp_path,
    }


def start(command, env, timeout=60):
    return subprocess.run(
        command, env=clean_env(**env), cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


def assert_refused_naming_every_variable(result, server):
    assert result.returncode != 0
    assert f"{server} will not start with these settings:" in result.stderr
    for variable in ("SECRET_KEY", "ALLOWED_HOSTS", "SUBSCRIBERS_SUPPRESSION_KEY", "DEBUG"):
        assert f"- {variable} " in result.stderr, variable


def status_without_redirect(port):
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/")
        return connection.getresponse().status
    except OSError:
        return None
    finally:
        connection.close()


@pytest.mark.processes
def test_gunicorn_refuses_to_start_with_weak_settings_and_starts_with_strong_ones(tmp_path):
    from tests.processes import free_port, wait_for

    port = free_port()
    gunicorn = [
        *(sys.executable, "-m", "gunicorn", "bellcms.wsgi", "--workers", "1"),
        *("--bind", f"127.0.0.1:{port}", "--control-socket", str(tmp_path / "gunicorn.ctl")),
    ]
    refused = start(gunicorn, weak_production(tmp_path))
    assert_refused_naming_every_variable(refused, "The web server (bellcms.wsgi)")

    env = {**PRODUCTION, "ALLOWED_HOSTS": "127.0.0.1", "BELLCMS_VAR_DIR": tmp_path}
    server = subprocess.Popen(
        gunicorn,
        env=clean_env(**env),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # Production redirects plain http to https: the redirect means it is up.
        assert wait_for(lambda: status_without_redirect(port), timeout=30, what="gunicorn") == 301
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.processes
@pytest.mark.parametrize(
    ("command", "server"),
    [
        ([*MANAGE, "serve", "127.0.0.1:0"], "manage.py serve"),
        ([sys.executable, "-m", "celery", "-A", "bellcms", "worker"], "The Celery worker"),
        (
            [sys.executable, "-m", "celery", "-A", "bellcms", "beat", "--schedule={tmp}/beat"],
            "Celery beat",
        ),
    ],
    ids=["serve", "worker", "beat"],
)
def test_servers_refuse_to_start_with_weak_settings(tmp_path, command, server):
    command = [part.format(tmp=tmp_path) for part in command]
    result = start(command, weak_production(tmp_path))
    assert_refused_naming_every_variable(result, server)


def test_production_check_deploy_warns_of_missing_source_keys_and_refuses_a_bad_one(tmp_path):
    env = {key: value for key, value in PRODUCTION.items() if key != "SOURCE_INDEX_KEY"}
    result = manage("check", "--deploy", tmp_path=tmp_path, **env)
    assert result.returncode == 0  # a warning: everything but sources works
    assert "sources.W001" in result.stderr and "SOURCE_INDEX_KEY is not set" in result.stderr

    env = {**PRODUCTION, "SOURCE_MASTER_KEY": "too-short"}
    result = manage("check", "--deploy", tmp_path=tmp_path, **env)
    assert result.returncode != 0
    assert "sources.E001" in result.stderr
    assert "SOURCE_MASTER_KEY is not url-safe base64 of 32 bytes" in result.stderr
