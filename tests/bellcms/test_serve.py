"""The embedded default, as `make run` starts it: web, a real Celery worker and beat on the
filesystem broker, SQLite, no servers. Ctrl-C stops all of it, and nothing outlives it."""

import re
import signal
import subprocess
import urllib.parse
import urllib.request

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


@pytest.fixture
def embedded_env(tmp_path):
    env = clean_env(
        DJANGO_SETTINGS_MODULE="bellcms.settings.local",
        BELLCMS_VAR_DIR=tmp_path,
        BELLCMS_HEARTBEAT_SECONDS=2,
    )
    for command in (["migrate", "--no-input"], ["demo"]):
        subprocess.run([*MANAGE, *command], env=env, cwd=ROOT, check=True, capture_output=True)
    return env


@pytest.fixture
def serve(embedded_env, tmp_path):
    """`manage.py serve` on a free port, its output in a pipe, once the admin answers."""
    port = free_port()
    process = subprocess.Popen(
        [*MANAGE, "serve", f"127.0.0.1:{port}", "--concurrency=1"],
        env=embedded_env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(
            lambda: http_status(f"http://127.0.0.1:{port}/admin/login/") == 200,
            timeout=60,
            what="the admin login page",
        )
        process.port = port
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


def all_exited(pids):
    wait_for(
        lambda: not any(pid_alive(pid) for pid in pids),
        timeout=30,
        what="every child process to exit",
    )


def test_serve_runs_web_worker_and_beat_and_ctrl_c_stops_them(serve, tmp_path):
    # Beat sends a heartbeat task through the filesystem broker; the worker records it.
    cache = FileBasedCache(str(tmp_path / "cache"), {})
    wait_for(lambda: cache.get(HEARTBEAT_CACHE_KEY), timeout=60, what="a worker heartbeat")
    children = child_pids(serve.pid)
    assert len(children) >= 3  # web, worker (and its pool), beat

    serve.send_signal(signal.SIGINT)
    output, _ = serve.communicate(timeout=40)
    assert serve.returncode == 0
    all_exited(children)
    output = output.decode()
    assert "record_worker_heartbeat" in output
    assert output.rstrip().endswith("Stopped.")


@pytest.mark.parametrize("how", ["SIGKILL", "SIGINT with its output closed"])
def test_serve_leaves_no_process_behind_when_it_dies(serve, how):
    children = wait_for(
        lambda: len(child_pids(serve.pid)) >= 3 and child_pids(serve.pid),
        timeout=30,
        what="web, worker and beat",
    )
    if how == "SIGKILL":
        serve.kill()
    else:
        # Like Ctrl-C on `make run | tee log`: the reader of our output goes first.
        serve.stdout.close()
        serve.send_signal(signal.SIGINT)
    serve.wait(timeout=40)
    all_exited(children)


def test_serve_signup_confirmation_reaches_the_outbox_with_a_link_to_this_server(serve, tmp_path):
    # A reader signs up on the web process; the worker sends the confirmation to var/outbox/.
    base = f"http://127.0.0.1:{serve.port}"
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    page = opener.open(f"{base}/subscribe/", timeout=10).read().decode()
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page))
    fields.update(email="reader@example.org", name="", website="")
    body = urllib.parse.urlencode(fields).encode()
    request = urllib.request.Request(f"{base}/subscribe/", data=body, headers={"Referer": base})
    assert "check-your-inbox" in opener.open(request, timeout=10).url

    def confirmation():
        for message in (tmp_path / "outbox").glob("*.log"):
            links = re.findall(rf"{re.escape(base)}/confirm/\S+", message.read_text())
            if links:
                return links
        return None

    assert wait_for(confirmation, timeout=60, what="the confirmation in var/outbox/")
