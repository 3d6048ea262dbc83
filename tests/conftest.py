"""Fixtures shared by the whole suite.

With CI=true nothing may be skipped: a test skipped for a missing service or browser is reported
as a failure instead (see ``pytest_runtest_makereport``).
"""

import importlib
import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in the test thread; Django refuses ORM calls from a
# thread with a running loop unless told this is deliberate.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_PATH = ROOT / "issues" / "samples" / "bell-weekly-kremlin-view.txt"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, which is a failure: {report.longrepr}"


@pytest.fixture(autouse=True)
def empty_cache():
    """Every test starts with an empty cache: archive pages are kept there under the archive's
    stamp, which each test's rolled-back database starts again from the same number."""
    from django.core.cache import caches

    from archive.freshness import stamp_forget

    caches["default"].clear()
    stamp_forget()


@pytest.fixture
def sample_path():
    return SAMPLE_PATH


@pytest.fixture
def sample_text():
    return SAMPLE_PATH.read_text(encoding="utf-8")


@pytest.fixture
def newsroom_groups(db):
    """The groups the data migration creates, brought back if a transactional test flushed them.

    ``serialized_rollback`` cannot do it for browser tests: once Playwright runs its event loop
    in the test thread, Django hands out a new connection, without the serialized database.
    """
    from django.contrib.auth.models import Group, Permission

    groups = importlib.import_module("issues.migrations.0002_newsroom_groups")
    editors = importlib.import_module("issues.migrations.0004_editors_approve_and_schedule")
    grants = {**groups.GROUP_PERMISSIONS}
    grants["Editors"] = [*grants["Editors"], *editors.EDITOR_PERMISSIONS, "correct_story"]
    for name, codenames in grants.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="issues", codename__in=codenames)
        )
    sources = importlib.import_module("sources.migrations.0003_newsroom_groups")
    for name, codenames in sources.GROUP_PERMISSIONS.items():
        Group.objects.get(name=name).permissions.add(
            *Permission.objects.filter(content_type__app_label="sources", codename__in=codenames)
        )
    audience = importlib.import_module("subscribers.migrations.0009_audience_group")
    for name, codenames in audience.GROUP_PERMISSIONS.items():
        Group.objects.get_or_create(name=name)[0].permissions.add(
            *Permission.objects.filter(
                content_type__app_label="subscribers", codename__in=codenames
            )
        )


@pytest.fixture
def editor(newsroom_groups):
    from tests.factories import UserFactory

    return UserFactory(username="editor", groups=["Editors"])


@pytest.fixture
def second_editor(newsroom_groups):
    """Another editor: the one who approves what ``editor`` asked for (a retraction, say)."""
    from tests.factories import UserFactory

    return UserFactory(username="second-editor", groups=["Editors"])


@pytest.fixture
def journalist(newsroom_groups):
    from tests.factories import UserFactory

    return UserFactory(username="journalist", groups=["Journalists"])


@pytest.fixture
def keeper(newsroom_groups):
    from tests.factories import UserFactory

    return UserFactory(username="keeper", groups=["Source keepers"])


@pytest.fixture
def audience_member(newsroom_groups):
    """A member of the Audience group: sees, imports and exports subscribers."""
    from tests.factories import UserFactory

    return UserFactory(username="audience", groups=["Audience"])


@pytest.fixture(scope="session")
def chromium():
    """A real headless Chromium (Debian's), driven by Playwright."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    context = chromium.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    # Closing fires the page's "pagehide" requests (the presence beacon): they must not reach
    # the live server while the test database is being emptied, where the request's locks and
    # the TRUNCATE's, taken in other orders, deadlock.
    context.route("**/*", lambda route: route.abort())
    context.close()


@pytest.fixture
def smtp():
    """A real SMTP server (aiosmtpd) on 127.0.0.1: ``(controller, inbox)``."""
    from tests.smtp import smtp_server_start

    controller, inbox = smtp_server_start()
    yield controller, inbox
    controller.stop()


@pytest.fixture
def mail_server(smtp):
    """Dispatch sends over SMTP to the ``smtp`` test server, in batches of 40; the process's
    connection is closed after. The server's inbox."""
    from django.test import override_settings

    from subscribers.dispatch.transports import SMTP_BACKEND, transport_close

    controller, inbox = smtp
    with override_settings(
        EMAIL_BACKEND=SMTP_BACKEND,
        EMAIL_HOST=controller.hostname,
        EMAIL_PORT=controller.port,
        EMAIL_USE_TLS=False,
        EMAIL_USE_SSL=False,
        EMAIL_HOST_USER="",
        EMAIL_HOST_PASSWORD="",
        EMAIL_TIMEOUT=5,
        DISPATCH_BATCH_SIZE=40,
    ):
        yield inbox
        transport_close()
    transport_close()


class CeleryProcesses:
    """Celery worker and beat processes against this test's PostgreSQL database and a Redis
    broker, sending mail to the ``smtp`` server. Each is stopped by its PID at the end."""

    def __init__(self, *, env, tmp_path):
        self.env = env
        self.tmp_path = tmp_path
        self.processes = []

    def _start(self, kind, args, env):
        import subprocess
        import sys

        from tests.processes import ROOT

        log_path = self.tmp_path / f"{kind}-{len(self.processes)}.log"
        with log_path.open("w") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "bellcms", kind, *args, "-l", "DEBUG"],
                env={**self.env, **{key: str(value) for key, value in env.items()}},
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        process.log_path = log_path
        self.processes.append(process)
        return process

    def worker(self, **env):
        """One worker process (solo pool: the process that sends is the one a test kills)."""
        return self._start("worker", ["--pool=solo"], env)

    def beat(self, **env):
        schedule = self.tmp_path / f"beat-schedule-{len(self.processes)}"
        return self._start("beat", ["--schedule", str(schedule)], env)

    def stop(self):
        import subprocess

        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:  # stuck in shutdown: killed
                process.kill()
                process.wait(timeout=10)


@pytest.fixture
def celery_processes(smtp, tmp_path):
    """Start real Celery workers and beat (``.worker()``, ``.beat()``) for this test; tasks the
    test queues go to them. Needs a transactional test on PostgreSQL and Redis."""
    import redis
    from django.db import connection

    from bellcms.celery import app
    from tests.processes import clean_env

    broker = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/15")
    if connection.vendor != "postgresql":
        pytest.skip("a worker process shares the test database only on PostgreSQL")
    try:
        redis.Redis.from_url(broker).ping()
    except redis.ConnectionError:
        pytest.skip(f"no Redis at {broker}")
    db = connection.settings_dict
    controller, _ = smtp
    env = clean_env(
        DJANGO_SETTINGS_MODULE="bellcms.settings.test",
        BELLCMS_TEST_EAGER="false",
        DATABASE_URL=(
            f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}"
        ),
        CELERY_BROKER_URL=broker,
        BELLCMS_TEST_QUEUE=app.conf.task_default_queue,
        EMAIL_URL=f"smtp://{controller.hostname}:{controller.port}",
        BELLCMS_VAR_DIR=tmp_path,
    )
    processes = CeleryProcesses(env=env, tmp_path=tmp_path)
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    yield processes
    app.conf.task_always_eager = eager
    processes.stop()


@pytest.fixture
def worker(celery_processes):
    """One Celery worker process (see ``celery_processes``). Yields the path of its DEBUG log.

    Needs a transactional test: the worker sees only committed rows.
    """
    yield celery_processes.worker().log_path
