"""The embedded default, as `make run` starts it: web, a real Celery worker and beat on the
filesystem broker, SQLite, no servers. Ctrl-C stops all of it."""

import signal
import subprocess

import pytest
from django.core.cache.backends.filebased import FileBasedCache

from bellcms.health import HEARTBEAT_CACHE_KEY
from tests.processes import (
    MANAGE,
    ROOT,
    child_pids,
    clean_env,
    free_port,
    http_status,
    pid_alive,
    wait_for,
)

pytestmark = pytest.mark.processes


def test_serve_runs_web_worker_and_beat_and_ctrl_c_stops_them(tmp_path):
    env = clean_env(
        DJANGO_SETTINGS_MODULE="bellcms.settings.local",
        BELLCMS_VAR_DIR=tmp_path,
        BELLCMS_HEARTBEAT_SECONDS=2,
    )
    subprocess.run(
        [*MANAGE, "migrate", "--no-input"], env=env, cwd=ROOT, check=True, capture_output=True
    )
    port = free_port()
    log = (tmp_path / "serve.log").open("w+")
    serve = subprocess.Popen(
        [*MANAGE, "serve", f"127.0.0.1:{port}", "--concurrency=1"],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(
            lambda: http_status(f"http://127.0.0.1:{port}/admin/login/") == 200,
            timeout=60,
            what="the admin login page",
        )
        # Beat sends a heartbeat task through the filesystem broker; the worker records it.
        cache = FileBasedCache(str(tmp_path / "cache"), {})
        wait_for(lambda: cache.get(HEARTBEAT_CACHE_KEY), timeout=60, what="a worker heartbeat")
        children = child_pids(serve.pid)
        assert len(children) >= 3  # web, worker (and its pool), beat

        serve.send_signal(signal.SIGINT)
        assert serve.wait(timeout=30) == 0
        wait_for(
            lambda: not any(pid_alive(pid) for pid in children),
            timeout=10,
            what="every child process to exit",
        )
    finally:
        if serve.poll() is None:
            serve.kill()
        log.seek(0)
        output = log.read()
    assert "Stopped." in output
    assert "record_worker_heartbeat" in output
