"""Dispatch an issue end to end: messages per second against the SMTP floor, memory, lag.

    .venv/bin/python bench/dispatch.py [--subscribers 20000] [--workers 1 2]
        [--connections 1] [--rss 10000 200000] [--profile] [--rtt-ms 0]

The pipeline is the production one: the sample issue is scheduled a few seconds ahead, this
process runs the scheduler's pass (``publish_due_issues``) every second, and Celery worker
processes (``--pool=solo``: the process that sends is the one measured) send over SMTP to
Postfix's ``smtp-sink`` on 127.0.0.1. Each run has a fresh issue and fresh workers. The floor
is the same number of the issue's real message, built once, pushed with bare ``smtplib`` over
one connection to the same server. ``--profile`` adds where one message's time goes, sending
in this process (``dispatch_run``, no Celery).

Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth), Redis on 127.0.0.1:6379 (db 14,
a queue of this run's own) and /usr/sbin/smtp-sink (Debian package postfix; the mail server
itself is not started). Runs on a throw-away database, bellcms_bench_<pid>, dropped at the end.
Prints figures; it asserts nothing. The default run takes about 4 minutes on 2 CPUs at 1 300-1 700
messages per second, most of it sending to 200 000 subscribers; for a quick look:
``--subscribers 2000 --rss 1000 5000``.

``--rtt-ms 40`` puts a distant mail server's round trip (here 40 ms) between the senders and
smtp-sink (``bench/delay_proxy.py``, a proxy on 127.0.0.1 that delays each way by half): what
a relay across the internet, an ESP's SMTP endpoint, does to the rate, and how more
connections make up for it, e.g.
``--rtt-ms 40 --connections 8 16 32 --workers 1 --subscribers 6000 --rss``. ``--connections``
sets each worker's ``DISPATCH_CONNECTIONS`` (a run for each; 1 unless told). With ``--rtt-ms``
the floor column holds the ideal, workers * connections / (2 * round trip), and the target is
0.8 of it; ``DISPATCH_TASKS_PER_ISSUE`` is raised to the most workers asked for.
"""

import argparse
import contextlib
import os
import re
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SMTP_SINK = "/usr/sbin/smtp-sink"
POSTGRES = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "postgres"}
BROKER = "redis://127.0.0.1:6379/14"
SAMPLE = ROOT / "issues" / "samples" / "bell-weekly-kremlin-view.txt"
# The test settings (database, broker and mail server from the environment, a queue of this
# run's own), with tasks queued through the broker instead of run in place: in this process,
# which queues them when it publishes, and in the workers, which queue their successors.
SETTINGS_MODULE = "bellcms_bench_dispatch_settings"
SETTINGS = "from bellcms.settings.test import *  # noqa: F403\n\nCELERY_TASK_ALWAYS_EAGER = False\n"
# The issue is scheduled this far ahead; the scheduler's pass runs every second.
SCHEDULE_AHEAD_SECONDS = 3
PASS_SECONDS = 1.0
TARGET_ONE_WORKER = 0.7
TARGET_ROUND_TRIPS = 0.8
# --esp: django-anymail's Mailgun backend against bench/mock_esp.py, this far away, taking at
# most this many recipients a call; one worker should send this many messages a second.
ESP_BACKEND = "anymail.backends.mailgun.EmailBackend"
ESP_LATENCY_MS = 40
ESP_MOST = 500
TARGET_ESP = 2000
TARGET_RSS_GROWTH = 1.3


class Processes:
    """The processes this bench started, stopped by PID: terminate, then kill."""

    def __init__(self):
        self.running: list[subprocess.Popen] = []

    def start(self, command, *, log: Path, env=None) -> subprocess.Popen:
        with log.open("ab") as out:
            process = subprocess.Popen(
                command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
            )
        self.running.append(process)
        return process

    def stop(self, process: subprocess.Popen, timeout: float = 30) -> None:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        if process in self.running:
            self.running.remove(process)

    def stop_all(self) -> None:
        for process in reversed(list(self.running)):
            self.stop(process)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, *, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")


def smtp_answers(port: int) -> bool:
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=2) as smtp:
            return smtp.noop()[0] == 250
    except (OSError, smtplib.SMTPException):
        return False


def http_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return True
    except OSError:
        return False


def sink_count(log: Path) -> int:
    """Messages smtp-sink accepted so far: the last of its running counters (``-c``)."""
    found = re.findall(rb"mesg=(\d+)", log.read_bytes()[-200:])
    return int(found[-1]) if found else 0


def peak_rss_kib(pid: int) -> int:
    """VmHWM of a process: the most resident memory it ever had."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)[1])


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def broker_keys() -> set[bytes]:
    import redis

    return set(redis.Redis.from_url(BROKER).scan_iter())


def broker_keys_drop(queue: str, before: set[bytes]) -> None:
    """Delete what this run left in the broker's database: its queue and the bookkeeping
    keys (bindings, unacked messages, reply queues) that were not there before it."""
    import redis

    broker = redis.Redis.from_url(BROKER)
    ours = (b"_kombu.", b"unacked", b"celeryev")
    for key in set(broker.scan_iter()) - before:
        if queue.encode() in key or key.startswith(ours) or key.endswith(b".reply.celery.pidbox"):
            broker.delete(key)


def log_tail(path: Path, lines: int = 20) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


class Bench:
    def __init__(
        self,
        *,
        tmp: Path,
        processes: Processes,
        port: int,
        queue: str,
        env: dict,
        rtt_ms: float = 0.0,
    ):
        self.tmp = tmp
        self.processes = processes
        self.port = port
        self.queue = queue
        self.env = env
        self.sink_log = tmp / "smtp-sink.log"
        self.runs = 0
        self.rtt_ms = rtt_ms

    # Setup ---------------------------------------------------------------------------------

    def subscribers_create(self, count: int) -> float:
        """``count`` active subscribers, made by the database itself: one INSERT … SELECT."""
        from django.db import connection, transaction

        from subscribers.models import ConsentMethod, Subscriber, SubscriberStatus, Tier

        table = connection.ops.quote_name(Subscriber._meta.db_table)
        start = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (public_id, email, name, status, tier, consent_at, "
                "consent_method, consent_source, note, labels, stripe_customer_id, soft_bounces, "
                "created_at, updated_at) "
                "SELECT gen_random_uuid(), 'reader-' || n || '@bench.example', '', %s, %s, "
                "now(), %s, 'bench', '', '', '', 0, now(), now() "
                "FROM generate_series(1, %s) AS n",
                [SubscriberStatus.ACTIVE, Tier.FREE, ConsentMethod.IMPORT, count],
            )
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {table}")
        return time.perf_counter() - start

    def newsletter_create(self, audience: int):
        """A newsletter the first ``audience`` subscribers are subscribed to."""
        from django.db import connection

        from issues.models import Newsletter
        from subscribers.models import Subscriber, Subscription, SubscriptionStatus

        newsletter = Newsletter.objects.create(
            name=f"The Bell Weekly (bench {audience})",
            slug=f"bench-{audience}",
            kicker="THE BELL WEEKLY",
            sender_name="The Bell",
            sender_email="weekly@thebell.example",
        )
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {quote(Subscription._meta.db_table)} "
                "(subscriber_id, newsletter_id, status, created_at, confirmed_at) "
                f"SELECT id, %s, %s, now(), now() FROM {quote(Subscriber._meta.db_table)} "
                "ORDER BY id LIMIT %s",
                [newsletter.pk, SubscriptionStatus.ACTIVE, audience],
            )
            cursor.execute(f"ANALYZE {quote(Subscription._meta.db_table)}")
        return newsletter

    def issue_create(self, newsletter):
        from django.contrib.auth import get_user_model

        from issues.importing import issue_import
        from sources.citing import block_on_record, unsourced_blocks

        issue = issue_import(path=SAMPLE, newsletter=newsletter)
        # The sample's claims that attribute to a source must rest on one before the issue may
        # go out (the scheduler holds it otherwise): here they are marked on the record, which
        # leaves the text, and so the message sent, as it is.
        user, _created = get_user_model().objects.get_or_create(
            username="bench", defaults={"is_staff": True, "is_superuser": True}
        )
        for story in issue.stories.all():
            for block in unsourced_blocks(story=story):
                block_on_record(block=block, note="Benchmark text.", acting_user=user)
        return issue

    def message(self, issue) -> tuple[str, bytes]:
        """The issue's real message for one subscriber, as dispatch builds it: sender, bytes."""
        from issues.rendering import issue_render
        from subscribers.dispatch.message import issue_mailing_prepare
        from subscribers.dispatch.wire import RawIssueMessage
        from subscribers.models import Subscriber

        raw = RawIssueMessage(
            issue_mailing_prepare(rendered=issue_render(issue=issue), issue=issue)
        )
        subscriber = Subscriber.objects.order_by("pk").first()
        return raw.from_address, raw.render(raw.personal(subscriber=subscriber))

    # Workers -------------------------------------------------------------------------------

    def workers_start(
        self, count: int, *, connections: int
    ) -> list[tuple[str, subprocess.Popen, Path]]:
        from bellcms.celery import app

        self.runs += 1
        workers = []
        for index in range(1, count + 1):
            name = f"bench-{os.getpid()}-{self.runs}-{index}@127.0.0.1"
            log = self.tmp / f"worker-{self.runs}-{index}.log"
            command = [sys.executable, "-m", "celery", "-A", "bellcms", "worker"]
            command += ["--pool=solo", "--loglevel=INFO", f"--hostname={name}"]
            env = self.env | {"DISPATCH_CONNECTIONS": str(connections)}
            workers.append((name, self.processes.start(command, log=log, env=env), log))
        for name, process, log in workers:

            def ready(name=name, process=process, log=log):
                if process.poll() is not None:
                    raise RuntimeError(f"worker {name} exited:\n{log_tail(log)}")
                return app.control.inspect(destination=[name], timeout=0.5).ping()

            wait_for(ready, timeout=90, what=f"worker {name}")
            conf = app.control.inspect(destination=[name], timeout=5).conf() or {}
            # Celery reports the settings under their Django names.
            worker_conf = conf.get(name, {})
            eager = worker_conf.get("CELERY_TASK_ALWAYS_EAGER", True)
            queue = worker_conf.get("CELERY_TASK_DEFAULT_QUEUE")
            if eager or queue != self.queue:
                raise RuntimeError(f"worker {name}: eager mode {eager}, queue {queue}")
        return workers

    def workers_stop(self, workers) -> None:
        from bellcms.celery import app

        for _name, process, _log in workers:
            self.processes.stop(process)
        # Successors a worker held for later (a countdown) went back to the queue: drop them.
        app.control.purge()

    # Runs ----------------------------------------------------------------------------------

    def publish(self, issue):
        """Schedule the issue a few seconds ahead, then run the scheduler's pass every second
        until it publishes it."""
        from django.utils import timezone

        from issues.models import Issue, IssueStatus
        from issues.scheduling import publish_due_issues

        publish_at = timezone.now() + timedelta(seconds=SCHEDULE_AHEAD_SECONDS)
        Issue.objects.filter(pk=issue.pk).update(
            status=IssueStatus.SCHEDULED, publish_at=publish_at
        )
        deadline = time.monotonic() + SCHEDULE_AHEAD_SECONDS + 60
        while time.monotonic() < deadline:
            started = time.monotonic()
            if issue.pk in publish_due_issues():
                issue.refresh_from_db()
                return issue
            time.sleep(max(0.0, PASS_SECONDS - (time.monotonic() - started)))
        raise RuntimeError(f"issue {issue.pk} was not published")

    def pipeline(self, newsletter, *, audience: int, workers: int, connections: int) -> dict:
        """One issue to ``audience`` subscribers through ``workers`` worker processes, each
        sending over ``connections`` SMTP connections."""
        from issues.models import Issue, IssueStatus
        from subscribers.dispatch.progress import dispatch_progress
        from subscribers.models import DeliveryStatus, Dispatch

        issue = self.issue_create(newsletter)
        started = self.workers_start(workers, connections=connections)
        try:
            ready_kib = [peak_rss_kib(process.pid) for _, process, _ in started]
            cpu = -sum(cpu_seconds(process.pid) for _, process, _ in started)
            sunk = sink_count(self.sink_log)
            self.publish(issue)

            def sent():
                for name, process, log in started:
                    if process.poll() is not None:
                        raise RuntimeError(f"worker {name} exited:\n{log_tail(log)}")
                status = Issue.objects.filter(pk=issue.pk).values_list("status", flat=True)
                return status.get() == IssueStatus.SENT

            # Two round trips a message, a third for anything else, over every connection.
            seconds = audience / 100 + audience * 3 * self.rtt_ms / 1000 / workers / connections
            wait_for(sent, timeout=120 + seconds, what=f"issue {issue.pk} sent")
            peak_kib = [peak_rss_kib(process.pid) for _, process, _ in started]
            cpu += sum(cpu_seconds(process.pid) for _, process, _ in started)
        finally:
            self.workers_stop(started)
        issue.refresh_from_db()
        # What the sending page's poll (every 2 s while it is open) costs at this audience.
        polls = []
        for _ in range(5):
            poll_started = time.perf_counter()
            progress = dispatch_progress(issue_id=issue.pk)
            polls.append(time.perf_counter() - poll_started)
        dispatch = Dispatch.objects.get(issue=issue)
        delivered = progress.counts[DeliveryStatus.SENT]
        span = (progress.last_sent_at - progress.first_sent_at).total_seconds()
        return {
            "audience": progress.audience,
            "sent": delivered,
            "sunk": sink_count(self.sink_log) - sunk,
            "rate": delivered / span if span > 0 else float("nan"),
            "wall": (dispatch.finished_at - issue.published_at).total_seconds(),
            "lag": progress.lag_seconds,
            "pass": (issue.published_at - issue.publish_at).total_seconds(),
            "cpu_us": cpu / max(delivered, 1) * 1e6,
            "poll_ms": sorted(polls)[len(polls) // 2] * 1000,
            "ready_mib": max(ready_kib) / 1024,
            "peak_mib": max(peak_kib) / 1024,
        }

    def floor(self, issue, recipients: list[str]) -> dict:
        """The same number of pre-rendered messages with bare smtplib over one connection."""
        sender, payload = self.message(issue)
        sunk = sink_count(self.sink_log)
        with smtplib.SMTP("127.0.0.1", self.port, timeout=10) as smtp:
            smtp.ehlo()
            start = time.perf_counter()
            for recipient in recipients:
                smtp.sendmail(sender, recipient, payload)
            elapsed = time.perf_counter() - start
        return {
            "sent": len(recipients),
            "sunk": sink_count(self.sink_log) - sunk,
            "rate": len(recipients) / elapsed,
            "bytes": len(payload),
        }

    def profile(self, newsletter) -> dict[str, tuple[Counter, Counter]]:
        """Send an issue in this process (``dispatch_run``, no Celery), timing each step.

        After a first batch (warm-up, not counted), batches alternate between
        synchronous_commit on and off for this connection (off: a commit does not wait for
        the WAL flush), so that both see the same load. Returns seconds and calls by step for
        each mode; "total" is the time of its batches, from one claim to the next.
        """
        from django.core import signing
        from django.db import connection
        from django.test import override_settings

        from subscribers.dispatch import loop, message, recording, transports, wire

        modes = {mode: (Counter(), Counter()) for mode in ("warm-up", "on", "off")}
        state = {"batch": 0, "mode": "warm-up", "since": time.perf_counter()}

        def batch_next():
            now = time.perf_counter()
            modes[state["mode"]][0]["total"] += now - state["since"]
            state["batch"] += 1
            state["mode"] = "on" if state["batch"] % 2 else "off"
            with connection.cursor() as cursor:
                cursor.execute(f"SET synchronous_commit TO {state['mode']}")
            state["since"] = time.perf_counter()

        def timed(owner, name, label):
            original = getattr(owner, name)

            def wrapper(*args, **kwargs):
                # A claim ends the batch before; the first re-check ends the warm-up (the first
                # claim and building the issue's message).
                first = state["batch"] == 0
                if (label == "claim" and not first) or (label == "recheck" and first):
                    batch_next()
                seconds, calls = modes[state["mode"]]
                start = time.perf_counter()
                try:
                    return original(*args, **kwargs)
                finally:
                    seconds[label] += time.perf_counter() - start
                    calls[label] += 1

            return mock.patch.object(owner, name, wrapper)

        issue = self.issue_create(newsletter)
        # Published without queuing its tasks: this process sends it.
        with mock.patch("subscribers.dispatch.start.dispatch_enqueue"):
            self.publish(issue)
        steps = [
            (loop, "deliveries_claim", "claim"),
            (loop, "_skip_unwanted", "recheck"),
            (transports.SmtpTransport, "send", "smtp"),
            (recording.SentRecorder, "record", "record"),
            (recording.SentRecorder, "settle", "wait"),
            (message.IssueMailing, "personal", "personal"),
            (signing, "dumps", "sign"),
            (wire.RawIssueMessage, "render", "render"),
        ]
        try:
            with contextlib.ExitStack() as stack:
                for owner, name, label in steps:
                    stack.enter_context(timed(owner, name, label))
                # One connection: the steps are timed in one thread.
                with override_settings(DISPATCH_CONNECTIONS=1):
                    loop.dispatch_run(issue_id=issue.pk, seconds=3600)
                modes[state["mode"]][0]["total"] += time.perf_counter() - state["since"]
        finally:
            transports.transport_close()
            with connection.cursor() as cursor:
                cursor.execute("RESET synchronous_commit")
        return {mode: modes[mode] for mode in ("on", "off")}


def run(args, bench: Bench) -> None:
    from django.core.management import call_command
    from django.db import connection

    from bellcms.celery import app
    from subscribers.models import Subscriber

    if app.conf.task_always_eager or app.conf.task_default_queue != bench.queue:
        raise RuntimeError("tasks would run in this process or go to another queue")
    start = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrate_seconds = time.perf_counter() - start
    biggest = max([args.subscribers, *args.rss])
    create_seconds = bench.subscribers_create(biggest)
    newsletters = {size: bench.newsletter_create(size) for size in {args.subscribers, *args.rss}}
    connection.ensure_connection()
    server = connection.connection.info.server_version
    print(
        f"PostgreSQL {server // 10000}.{server % 10000}, Redis broker, smtp-sink on "
        f"127.0.0.1:{bench.port}"
        + (f" {args.rtt_ms:g} ms away (round trip)" if args.rtt_ms else "")
        + f", {os.cpu_count()} CPUs (load average "
        f"{os.getloadavg()[0]:.1f}); migrate {migrate_seconds:.1f} s, {biggest:,} subscribers "
        f"created in {create_seconds:.1f} s",
        flush=True,
    )

    recipients = list(
        Subscriber.objects.order_by("pk").values_list("email", flat=True)[: args.subscribers]
    )
    floor_issue = bench.issue_create(newsletters[args.subscribers])
    rows, floors, peaks = [], [], {}
    runs = [(workers, connections) for workers in args.workers for connections in args.connections]
    for workers, connections in runs:
        # The floor just before each run: on a shared machine the load drifts.
        # Across a round trip bare smtplib is slow (four a message): a sample of 200 will do.
        if not args.esp:
            floors.append(bench.floor(floor_issue, recipients[:200] if args.rtt_ms else recipients))
        result = bench.pipeline(
            newsletters[args.subscribers],
            audience=args.subscribers,
            workers=workers,
            connections=connections,
        )
        if args.esp:
            result["floor"] = None
            result["target"] = ""
        elif args.rtt_ms:
            # Against the ideal: every connection ending a message each two round trips.
            ideal = workers * connections / (2 * args.rtt_ms / 1000)
            result["floor"] = floors[-1] | {"rate": ideal}
            result["target"] = f"≥ {TARGET_ROUND_TRIPS}"
        else:
            result["floor"] = floors[-1]
            targets = {1: f"≥ {TARGET_ONE_WORKER}", 2: "> 1.0"}
            result["target"] = targets.get(workers, "") if connections == 1 else ""
        label = f"pipeline, {workers} worker{'s' * (workers > 1)}"
        if args.connections != [1]:
            label += f", {connections} conn."
        rows.append((label, result))
        print(f"  done: {rows[-1][0]}", flush=True)
    for size in args.rss:
        result = bench.pipeline(
            newsletters[size], audience=size, workers=1, connections=args.connections[-1]
        )
        peaks[size] = result["peak_mib"]
        rows.append(("memory, 1 worker", result))
        print(f"  done: memory, {size:,} subscribers", flush=True)

    print()
    if args.esp:
        print(
            f"ESP: django-anymail's Mailgun backend to bench/mock_esp.py, "
            f"{args.rtt_ms or ESP_LATENCY_MS:g} ms a call, {ESP_MOST} recipients a call; "
            f"the goal is {TARGET_ESP:,} msg/s for one worker."
        )
    if floors:
        if args.rtt_ms:
            print(
                f"floor, with --rtt-ms: the ideal, workers * connections / (2 * {args.rtt_ms:g} "
                "ms): each connection ending a message every two round trips (envelope, then "
                "data and final dot)."
            )
        print(
            f"bare smtplib: the issue's message ({floors[0]['bytes'] / 1024:.1f} KiB) with "
            f"smtplib.sendmail over one connection, {floors[0]['sent']:,} times: "
            + ", ".join(f"{floor['rate']:,.0f}" for floor in floors)
            + " msg/s"
            + ("" if all(f["sunk"] == f["sent"] for f in floors) else " (smtp-sink lost some!)")
        )
    if rows:
        header = (
            f"{'run':<28} {'messages':>9} {'sink':>8} {'msg/s':>6} {'floor':>6} {'ratio':>5} "
            f"{'target':>6} {'wall s':>6} {'lag s':>5} {'pass s':>6} {'CPU µs/msg':>10} "
            f"{'poll ms':>7} {'RSS MiB':>9}"
        )
        print(header)
        print("-" * len(header))
        for label, result in rows:
            floor = result.get("floor")
            versus = f"{'':>6} {'':>5} {'':>6}"
            if floor:
                ratio = result["rate"] / floor["rate"]
                versus = f"{floor['rate']:>6,.0f} {ratio:>5.2f} {result['target']:>6}"
            print(
                f"{label:<28} {result['sent']:>9,} {result['sunk']:>8,} {result['rate']:>6,.0f} "
                f"{versus} {result['wall']:>6.1f} {result['lag']:>5.2f} {result['pass']:>6.2f} "
                f"{result['cpu_us']:>10,.0f} {result['poll_ms']:>7.0f} "
                f"{result['ready_mib']:>3.0f} → {result['peak_mib']:.0f}"
            )
        print()
        print(
            "msg/s: messages / (last - first accepted: Delivery.sent_at); floor: measured just "
            "before the run; ratio: msg/s / floor.\nsink: messages smtp-sink counted. wall: "
            "published_at to the sending finished. lag: publish_at to the first message\n"
            "accepted; pass: of it, publish_at to published_at (the bench's pass falls just after "
            "publish_at; Celery beat's\nadds up to BELLCMS_SCHEDULER_SECONDS). CPU: the worker "
            "processes' user + system time per message. poll: the\nsending page's progress query "
            "(dispatch_progress, median of 5). RSS: VmHWM of the worker process (the largest)\n"
            "when ready → after the run."
        )
    if len(peaks) >= 2:
        low, high = min(peaks), max(peaks)
        print(
            f"peak RSS {high:,} / {low:,} subscribers: {peaks[high]:.0f} / {peaks[low]:.0f} MiB "
            f"= {peaks[high] / peaks[low]:.2f} (target ≤ {TARGET_RSS_GROWTH})"
        )

    if args.profile:
        floor = floors[-1] if floors else bench.floor(floor_issue, recipients)
        profile_print(bench, newsletters[args.subscribers], floor)


PROFILE_STEPS = {
    "smtp": "SMTP: envelope (pipelined if offered), message",
    "record": "record the outcome (UPDATE sent, answer not awaited)",
    "wait": "wait for the last UPDATE's commit before a final dot",
    "personal": "personal links (IssueMailing.personal)",
    "sign": "  of which 2 signed tokens (signing.dumps)",
    "render": "message bytes (RawIssueMessage.render)",
    "claim": "claim a batch (deliveries_claim)",
    "recheck": "re-check a batch's subscribers (_skip_unwanted)",
}


def profile_print(bench: Bench, newsletter, floor: dict) -> None:
    modes = bench.profile(newsletter)
    per, calls, rate = {}, {}, {}
    for mode, (seconds, counts) in modes.items():
        sent = max(counts["record"], 1)
        per[mode] = {key: value / sent * 1e6 for key, value in seconds.items()}
        top = [key for key, label in PROFILE_STEPS.items() if not label.startswith(" ")]
        per[mode]["other"] = per[mode]["total"] - sum(per[mode].get(key, 0.0) for key in top)
        calls[mode], rate[mode] = counts, sent / seconds["total"]
    print()
    print(
        f"Where one message's time goes: dispatch_run in this process (no Celery), "
        f"{calls['on']['record'] + calls['off']['record']:,} messages in batches alternating "
        f"synchronous_commit on ({rate['on']:,.0f} msg/s) and off ({rate['off']:,.0f} msg/s)"
    )
    header = f"{'step':<49} {'calls':>7} {'µs/msg':>7} {'share':>6} {'sync off':>9}"
    print(header)
    print("-" * len(header))
    rows = [*PROFILE_STEPS.items(), ("other", "other: the loop, rows, status reads")]
    on, off = per["on"], per["off"]
    for key, label in rows:
        count = f"{calls['on'][key]:,}" if key in calls["on"] else ""
        value = on.get(key, 0.0)
        print(
            f"{label:<49} {count:>7} {value:>7.0f} {value / on['total']:>6.0%} "
            f"{off.get(key, 0.0):>9.0f}"
        )
    print(f"{'total':<49} {'':>7} {on['total']:>7.0f} {'':>6} {off['total']:>9.0f}")
    print(f"{'floor (bare smtplib), measured last':<49} {'':>7} {1e6 / floor['rate']:>7.0f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=20_000)
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 2])
    parser.add_argument("--rss", type=int, nargs="*", default=[10_000, 200_000])
    parser.add_argument(
        "--connections",
        type=int,
        nargs="+",
        default=[1],
        help="SMTP connections per worker (DISPATCH_CONNECTIONS), a run for each",
    )
    parser.add_argument(
        "--profile", action="store_true", help="also time each step of sending, in this process"
    )
    parser.add_argument(
        "--esp",
        action="store_true",
        help=f"send through an ESP's batch API: a mock of Mailgun's, {ESP_LATENCY_MS} ms away "
        f"(or --rtt-ms), {ESP_MOST} recipients a call",
    )
    parser.add_argument(
        "--rtt-ms",
        type=float,
        default=0,
        help="a round trip to the mail server this long (through bench/delay_proxy.py)",
    )
    args = parser.parse_args()
    if args.esp and args.profile:
        parser.error("--profile times the SMTP path; leave out --esp")
    # Stopped with SIGTERM, still stop the processes and drop the database (``finally``).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if not Path(SMTP_SINK).exists():
        sys.exit(f"{SMTP_SINK} not found (apt-get install postfix provides it)")

    import psycopg
    from psycopg import sql

    tmp = Path(tempfile.mkdtemp(prefix="bellcms-bench-dispatch-"))
    settings = SETTINGS
    if args.esp:
        # The ESP's batch API (django-anymail's Mailgun backend) at the mock's address.
        settings += (
            f'EMAIL_BACKEND = "{ESP_BACKEND}"\n'
            'ANYMAIL = {**ANYMAIL, "MAILGUN_API_KEY": "bench", '
            '"MAILGUN_API_URL": __import__("os").environ["BENCH_ESP_URL"]}\n'
        )
    (tmp / f"{SETTINGS_MODULE}.py").write_text(settings)
    (tmp / "var").mkdir()
    processes = Processes()
    database = f"bellcms_bench_{os.getpid()}"
    queue = f"bellcms-bench-dispatch-{os.getpid()}"
    created = django_ready = False
    broker_keys_before = broker_keys()
    try:
        port = free_port()
        # -c: running counters on stdout; as root it must drop to another user after binding.
        user = ["-u", "nobody"] if os.geteuid() == 0 else []
        if args.esp:
            latency = str(args.rtt_ms or ESP_LATENCY_MS)
            mock = [str(ROOT / "bench" / "mock_esp.py"), str(port), latency, str(ESP_MOST)]
            processes.start([sys.executable, *mock], log=tmp / "smtp-sink.log")
            wait_for(lambda: http_answers(port), timeout=10, what="the mock ESP")
        else:
            processes.start(
                [SMTP_SINK, *user, "-c", f"127.0.0.1:{port}", "1000"], log=tmp / "smtp-sink.log"
            )
            wait_for(lambda: smtp_answers(port), timeout=10, what="smtp-sink")
        if args.rtt_ms and not args.esp:
            sink_port, port = port, free_port()
            proxy = [str(ROOT / "bench" / "delay_proxy.py"), str(port), str(sink_port)]
            processes.start([sys.executable, *proxy, str(args.rtt_ms)], log=tmp / "delay-proxy.log")
            wait_for(lambda: smtp_answers(port), timeout=10, what="the delaying proxy")

        env = {
            "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE,
            "PYTHONPATH": os.pathsep.join([str(tmp), str(ROOT)]),
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
            "CELERY_BROKER_URL": BROKER,
            "BELLCMS_TEST_QUEUE": queue,
            "EMAIL_URL": f"smtp://127.0.0.1:{port}",
            "BENCH_ESP_URL": f"http://127.0.0.1:{port}/v3",
            "DISPATCH_ESP_BATCH_SIZE": str(ESP_MOST),
            "BELLCMS_VAR_DIR": str(tmp / "var"),
            "SECRET_KEY": "bellcms-bench-dispatch-key",
        }
        if args.rtt_ms:
            env["DISPATCH_TASKS_PER_ISSUE"] = str(max([4, *args.workers]))
        os.environ.update(env)
        sys.path.insert(0, str(tmp))
        keep = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV"}
        child_env = {key: value for key, value in os.environ.items() if key in keep} | env

        with psycopg.connect(**POSTGRES, autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
        created = True

        import django

        django.setup()
        django_ready = True
        bench = Bench(
            tmp=tmp,
            processes=processes,
            port=port,
            queue=queue,
            env=child_env,
            rtt_ms=args.rtt_ms,
        )
        run(args, bench)
    finally:
        processes.stop_all()
        if django_ready:
            from django.db import connections

            connections.close_all()
        if created:
            with psycopg.connect(**POSTGRES, autocommit=True) as admin:
                admin.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(database)
                    )
                )
        with contextlib.suppress(Exception):
            broker_keys_drop(queue, broker_keys_before)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
