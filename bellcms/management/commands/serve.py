"""Serve the CMS together with a Celery worker and beat, as one foreground command.

The embedded default for a laptop or a demo: ``manage.py serve`` starts the development web
server, one worker and the beat scheduler as child processes, prefixes their output, and stops
all three on Ctrl-C (or SIGTERM). If one of them dies, the others are stopped too, so a broken
half-stack never keeps running unnoticed. Production runs the three as separate services
(docker-compose.yml).
"""

import os
import selectors
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand

# How long the children get to finish after Ctrl-C before they are killed. A Celery worker on
# the filesystem broker notices a stop request only between polls, which takes a few seconds.
STOP_GRACE_SECONDS = 20


class Command(BaseCommand):
    help = "Run the web server, a Celery worker and Celery beat together; Ctrl-C stops them all."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument(
            "--concurrency", type=int, default=2, help="Celery worker processes (default 2)."
        )

    def handle(self, *args, addrport, concurrency, **options):
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        celery = [sys.executable, "-m", "celery", "-A", "bellcms"]
        beat_schedule = settings.VAR_DIR / "celerybeat-schedule"
        commands = {
            "web": [*manage, "runserver", addrport, "--noreload"],
            "worker": [*celery, "worker", "--loglevel=INFO", f"--concurrency={concurrency}"],
            "beat": [*celery, "beat", "--loglevel=INFO", f"--schedule={beat_schedule}"],
        }
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        children = {
            # The commands are fixed above; nothing in them comes from the user.
            name: subprocess.Popen(  # noqa: S603
                command,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=settings.BASE_DIR,
                # Own process group: Ctrl-C reaches only this command, which then stops the
                # children itself, so none of them is left behind or killed mid-task.
                start_new_session=True,
            )
            for name, command in commands.items()
        }
        self.stdout.write(f"BellCMS on http://{addrport}/  (Ctrl-C stops web, worker and beat)")
        self.stdout.flush()

        self.stopping = False
        signal.signal(signal.SIGTERM, self._request_stop)
        signal.signal(signal.SIGINT, self._request_stop)
        selector = selectors.DefaultSelector()
        for name, child in children.items():
            selector.register(child.stdout, selectors.EVENT_READ, name)
        width = max(map(len, children))

        while not self.stopping:
            self._relay(selector, width)
            dead = [name for name, child in children.items() if child.poll() is not None]
            if dead:
                self.stderr.write(f"{', '.join(dead)} stopped; stopping the others.")
                break

        self.stdout.write("Stopping web, worker and beat…")
        for child in children.values():
            if child.poll() is None:
                # To the main process only: Celery's warm shutdown lets its pool finish the
                # tasks in hand rather than having them killed under it.
                child.terminate()
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        while time.monotonic() < deadline and any(c.poll() is None for c in children.values()):
            self._relay(selector, width)
        for child in children.values():
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGKILL)
            child.wait()
        self._relay(selector, width)
        self.stdout.write("Stopped.")

    def _request_stop(self, signum, frame):
        self.stopping = True

    def _relay(self, selector, width):
        """Copy whatever the children printed, one prefixed line at a time."""
        for key, _ in selector.select(timeout=0.2):
            line = key.fileobj.readline()
            if not line:
                selector.unregister(key.fileobj)
                continue
            text = line.decode("utf-8", "replace").rstrip("\n")
            self.stdout.write(f"{key.data:<{width}} | {text}")
            self.stdout.flush()
