"""Serve the CMS together with a Celery worker and beat, as one foreground command.

The embedded default for a laptop or a demo: ``manage.py serve`` starts the development web
server, one worker and the beat scheduler as child processes, prefixes their output, and stops
all three on Ctrl-C, SIGTERM or a closed terminal. If one of them dies, the others are stopped
too, so a broken half-stack never keeps running unnoticed. Production runs the three as separate
services (docker-compose.yml).
"""

import ctypes
import os
import selectors
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from bellcms.checks import weak_settings_refuse

# How long the children get to finish after Ctrl-C before they are killed. A Celery worker on
# the filesystem broker notices a stop request only between polls, which takes a few seconds.
STOP_GRACE_SECONDS = 20
PR_SET_PDEATHSIG = 1


def _die_with_parent():
    """Runs in each child before exec: on Linux, the kernel sends SIGTERM to the child when
    this command dies, even by SIGKILL, so no worker is ever left behind unattended."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Command(BaseCommand):
    help = "Run the web server, a Celery worker and Celery beat together; Ctrl-C stops them all."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument(
            "--concurrency", type=int, default=2, help="Celery worker processes (default 2)."
        )

    def handle(self, *args, addrport, concurrency, **options):
        try:
            weak_settings_refuse("manage.py serve")
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from None
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        celery = [sys.executable, "-m", "celery", "-A", "bellcms"]
        beat_schedule = settings.VAR_DIR / "celerybeat-schedule"
        commands = {
            "web": [*manage, "runserver", addrport, "--noreload"],
            "worker": [*celery, "worker", "--loglevel=INFO", f"--concurrency={concurrency}"],
            "beat": [*celery, "beat", "--loglevel=INFO", f"--schedule={beat_schedule}"],
        }
        self.stopping = False
        self.output_open = True
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, self._request_stop)

        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        # Links in emails (confirmations, notifications) point at the address served here.
        address = addrport if ":" in addrport else f"127.0.0.1:{addrport}"
        env.setdefault("BELLCMS_BASE_URL", f"http://{address}")
        children = {}
        try:
            for name, command in commands.items():
                # The commands are fixed above; nothing in them comes from the user.
                children[name] = subprocess.Popen(  # noqa: S603
                    command,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    env=env,
                    cwd=settings.BASE_DIR,
                    # Own process group: Ctrl-C reaches only this command, which then stops
                    # the children in order, so none is killed mid-task.
                    start_new_session=True,
                    preexec_fn=_die_with_parent,
                )
            self._say(f"BellCMS on http://{addrport}/  (Ctrl-C stops web, worker and beat)")
            self._supervise(children)
        finally:
            self._stop(children)

    def _request_stop(self, signum, frame):
        self.stopping = True

    def _supervise(self, children):
        self.selector = selectors.DefaultSelector()
        for name, child in children.items():
            self.selector.register(child.stdout, selectors.EVENT_READ, name)
        self.width = max(map(len, children))
        while not self.stopping:
            self._relay()
            dead = [name for name, child in children.items() if child.poll() is not None]
            if dead:
                self._say(f"{', '.join(dead)} stopped; stopping the others.")
                return

    def _stop(self, children):
        running = [child for child in children.values() if child.poll() is None]
        if running:
            self._say("Stopping web, worker and beat…")
        for child in running:
            # To the main process only: Celery's warm shutdown lets its pool finish the
            # tasks in hand rather than having them killed under it.
            child.terminate()
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        while time.monotonic() < deadline and any(c.poll() is None for c in children.values()):
            self._relay()
        for child in children.values():
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGKILL)
            child.wait()
        self._relay()
        self._say("Stopped.")

    def _relay(self):
        """Copy whatever the children printed, one prefixed line at a time."""
        if not getattr(self, "selector", None):
            time.sleep(0.2)
            return
        for key, _ in self.selector.select(timeout=0.2):
            line = key.fileobj.readline()
            if not line:
                self.selector.unregister(key.fileobj)
                continue
            text = line.decode("utf-8", "replace").rstrip("\n")
            self._say(f"{key.data:<{self.width}} | {text}")

    def _say(self, text):
        # Keep draining the children even when our own output is gone (a closed terminal or
        # a `| tee` stopped by the same Ctrl-C): a child blocked on a full pipe never stops.
        if not self.output_open:
            return
        try:
            self.stdout.write(text)
            self.stdout.flush()
        except (BrokenPipeError, OSError):
            self.output_open = False
