"""The public archive under gunicorn on PostgreSQL: requests per second, each against a static file.

    .venv/bin/python bench/archive.py [--reuse] [--duration 10] [--connections 32]
        [--workers 2] [--cache locmem] [--conn-max-age 60] [--russian-issues 52]

Ten years of a weekly newsletter (520 issues of 6 stories, text built from the sample issue's
words and invented ones, so that search has something to rank) in a PostgreSQL database of its
own, ``bellcms_bench_archive`` (``--database-url`` to name another), kept for ``--reuse``. Then
gunicorn (``bellcms.wsgi``, production settings: DEBUG off, whitenoise, the page cache on Redis
db 7, which this bench empties before and after) on 127.0.0.1, and ``wrk`` against, in one run:
a static file whitenoise serves (the floor every page is compared with), an issue page and a
story page kept in the cache, the issue page answered 304 to a conditional GET, both pages
rendered each time (a second gunicorn, alike but with ``ARCHIVE_CACHE_SECONDS=0``: no page is
kept), and search over distinct queries, at full load and on one connection (the time one
search takes, with no queueing behind other requests). It prints req/s, latency percentiles and
the ratio to the static file, the two goals met or not, and how many SQL queries each page
makes (Django's test client, in this process, before gunicorn starts). Asserts nothing.

The goals (the archive's issue): a cached issue page at least half the static file's req/s;
search p95 under 50 ms on 10 years of weekly issues. wrk shares the machine's cores with
gunicorn and PostgreSQL: on 2 cores every figure is lower than on a server, the ratios less so.
No access log is written (the Dockerfile's ``--access-logfile -`` would cost each request a
line). The default run takes about 3 minutes, a minute less with ``--reuse``.
"""

import argparse
import os
import random
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SAMPLE = ROOT / "issues" / "samples" / "bell-weekly-kremlin-view.txt"
LUA = ROOT / "bench" / "archive_wrk.lua"
WRK = "/usr/bin/wrk"
DATABASE_URL = "postgres://postgres@127.0.0.1:5432/bellcms_bench_archive"
CACHE_URL = "redis://127.0.0.1:6379/7"
STATIC_FILE = "archive/archive.css"
# Production settings, with the cache swapped for a per-process one when asked (production
# refuses LocMemCache: the admin and the sign-up limits need a shared cache; pages do not).
SETTINGS_MODULE = "bellcms_bench_archive_settings"
SETTINGS = """from bellcms.settings.production import *  # noqa: F403
import os

if os.environ.get("BENCH_LOCMEM_CACHE"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
"""
ISSUE_RATIO_GOAL = 0.5
SEARCH_P95_GOAL_MS = 50
# Invented words make up this share of the text: rare terms, each in a few dozen stories.
INVENTED_SHARE = 0.1
INVENTED_WORDS = 3000
SEARCH_QUERIES = 4000
RUSSIAN_TEXT = (
    "Кремль санкции нефть переговоры Путин Трамп война Украина экономика бюджет рубль банк "
    "инфляция ставка выборы губернатор министр правительство источник журналист редакция "
    "расследование компания миллиард экспорт газ рынок бизнес олигарх суд приговор оппозиция "
    "мобилизация армия фронт регион Москва Петербург Китай Индия Европа доллар курс налог "
    "пенсия зарплата цены продукты бензин дефицит импорт технологии интернет блокировка "
    "цензура закон Дума указ президент администрация силовики ФСБ прокуратура арест обыск"
)


# Text -------------------------------------------------------------------------------------


class Writer:
    """Sentences from a vocabulary (drawn as often as the sample uses each word) and invented
    words: deterministic for a seed, so that --reuse and a fresh run hold the same text."""

    def __init__(self, words: list[str], *, seed: int):
        self.rng = random.Random(seed)
        self.words = words
        syllables = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]
        invented = set()
        while len(invented) < INVENTED_WORDS:
            invented.add("".join(self.rng.choices(syllables, k=self.rng.randint(2, 4))))
        self.invented = sorted(invented)

    def phrase(self, low: int, high: int) -> str:
        count = self.rng.randint(low, high)
        words = [
            self.rng.choice(self.invented)
            if self.rng.random() < INVENTED_SHARE
            else self.rng.choice(self.words)
            for _ in range(count)
        ]
        return " ".join(words)

    def sentence(self) -> str:
        text = self.phrase(8, 24)
        return text[:1].upper() + text[1:] + "."

    def paragraph(self, low: int = 2, high: int = 5) -> str:
        return " ".join(self.sentence() for _ in range(self.rng.randint(low, high)))

    def headline(self) -> str:
        text = self.phrase(4, 9)
        return text[:1].upper() + text[1:]


def sample_words() -> list[str]:
    return re.findall(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)?", SAMPLE.read_text(encoding="utf-8"))


def search_queries(writer: Writer, count: int) -> list[str]:
    """Common words of the sample (many stories match), invented ones (a few), and pairs."""
    frequency: dict[str, int] = {}
    for word in writer.words:
        if len(word) >= 6 and "\u2019" not in word:
            frequency[word.lower()] = frequency.get(word.lower(), 0) + 1
    common = sorted(frequency, key=frequency.get, reverse=True)[:150]
    rng = random.Random(7)
    queries = set()
    while len(queries) < count:
        kind = rng.random()
        if kind < 0.3:
            queries.add(rng.choice(common))
        elif kind < 0.6:
            queries.add(rng.choice(writer.invented))
        else:
            queries.add(f"{rng.choice(common)} {rng.choice(common + writer.invented)}")
    queries = sorted(queries - {common[0]})
    rng.shuffle(queries)
    # First the sample's most frequent long word: the query the page is checked with.
    return [common[0], *queries[: count - 1]]


# Data -------------------------------------------------------------------------------------


def newsletter_fill(newsletter, writer: Writer, *, issues: int, stories: int, authors) -> None:
    """``issues`` sent issues, one a week back from last week, of ``stories`` stories each:
    rows in bulk (no signals), slugs as ``issues.slugs`` makes them."""
    from django.db import transaction
    from django.utils import timezone
    from django.utils.text import slugify

    from issues.models import Block, BlockKind, Issue, IssueStatus, Story, StoryStatus
    from issues.slugs import slug_base, unique_slug

    rng = writer.rng
    now = timezone.now()
    with transaction.atomic():
        rows = []
        for number in range(1, issues + 1):
            published = now - timedelta(weeks=issues - number, hours=1)
            title = writer.headline()
            rows.append(
                Issue(
                    newsletter=newsletter,
                    number=number,
                    title=title,
                    slug=f"{slugify(title)[:250]}-{number}",
                    intro="Hello! This week we cover " + writer.paragraph(1, 2),
                    status=IssueStatus.SENT,
                    publish_at=published,
                    published_at=published,
                )
            )
        made = Issue.objects.bulk_create(rows, batch_size=500)
        story_rows = []
        for issue in made:
            taken: set[str] = set()
            for position in range(1, stories + 1):
                headline = writer.headline()
                slug = unique_slug(slug_base(headline, fallback="story"), taken)
                taken.add(slug)
                story_rows.append(
                    Story(
                        issue=issue,
                        position=position,
                        headline=headline,
                        slug=slug,
                        status=StoryStatus.APPROVED,
                        takeaway=writer.paragraph(1, 3),
                    )
                )
        made_stories = Story.objects.bulk_create(story_rows, batch_size=1000)
        blocks, credits = [], []
        for story in made_stories:
            kinds = [BlockKind.HEADING] * (rng.random() < 0.4) + [BlockKind.PARAGRAPH] * 2
            kinds += [BlockKind.BULLET] * rng.randint(0, 4) + [BlockKind.PARAGRAPH] * rng.randint(
                1, 3
            )
            for position, kind in enumerate(kinds, start=1):
                text = writer.headline() if kind == BlockKind.HEADING else writer.paragraph()
                blocks.append(Block(story=story, position=position, kind=kind, text=text))
            for author in rng.sample(authors, rng.randint(1, 2)):
                credits.append(Story.authors.through(story_id=story.pk, user_id=author.pk))
        Block.objects.bulk_create(blocks, batch_size=2000)
        Story.authors.through.objects.bulk_create(credits, batch_size=2000)


def data_create(args) -> None:
    from django.contrib.auth import get_user_model

    from issues.models import Newsletter, NewsletterLanguage

    names = [("Anna", "Petrova"), ("Ivan", "Sokolov"), ("Maria", "Kuznetsova"), ("Oleg", "Orlov")]
    authors = [
        get_user_model().objects.get_or_create(
            username=f"bench-author-{n}",
            defaults={"first_name": first, "last_name": last, "password": "!"},
        )[0]
        for n, (first, last) in enumerate(names)
    ]
    weekly = Newsletter.objects.create(
        name="Bench Weekly", slug="bench-weekly", kicker="THE BELL WEEKLY"
    )
    newsletter_fill(
        weekly,
        Writer(sample_words(), seed=2026),
        issues=args.issues,
        stories=args.stories,
        authors=authors,
    )
    if args.russian_issues:
        russian = Newsletter.objects.create(
            name="Bench Russian",
            slug="bench-russian",
            kicker="БЕЛЛ",
            takeaway_label="Почему это важно",
            language=NewsletterLanguage.RUSSIAN,
        )
        newsletter_fill(
            russian,
            Writer(RUSSIAN_TEXT.split(), seed=2027),
            issues=args.russian_issues,
            stories=args.stories,
            authors=authors,
        )


def data_ready(args) -> bool:
    from issues.models import Issue, Story

    issues = Issue.objects.filter(newsletter__slug="bench-weekly").count()
    stories = Story.objects.filter(issue__newsletter__slug="bench-weekly").count()
    return issues == args.issues and stories == args.issues * args.stories


def database_prepare(url: str, *, reuse: bool) -> bool:
    """Create the bench's database, or keep it with --reuse; return whether it is new."""
    import psycopg
    from psycopg import sql

    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if exists and reuse:
            return False
        if exists:
            if not name.startswith("bellcms_bench"):
                sys.exit(f"{name} exists and is not a bench database: use --reuse, or another")
            connection.execute(
                sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name))
            )
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return True


def search_reindex() -> str:
    from django.core.management import call_command
    from django.db import connection

    start = time.perf_counter()
    call_command("archive_reindex", verbosity=0)
    # As autovacuum would after a bulk load: the planner needs the tables' statistics.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return f"archive_reindex and ANALYZE {time.perf_counter() - start:.1f} s"


def data_facts() -> str:
    from django.db import connection

    from issues.models import Block, Issue, Newsletter, Story

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        size = cursor.fetchone()[0]
        cursor.execute("SELECT sum(length(text)) FROM issues_block")
        text = cursor.fetchone()[0] or 0
    return (
        f"{Newsletter.objects.count()} newsletters, {Issue.objects.published().count():,} "
        f"published issues, {Story.objects.count():,} stories, {Block.objects.count():,} blocks "
        f"({text / 2**20:.0f} MiB of block text); database {size / 2**20:.0f} MiB"
    )


# Pages ------------------------------------------------------------------------------------


def bench_paths(queries: list[str]) -> dict:
    from django.contrib.staticfiles.storage import staticfiles_storage
    from django.urls import reverse

    from archive.queries import published_stories

    stories = list(
        published_stories()
        .filter(issue__newsletter__slug="bench-weekly")
        .order_by("issue__number", "position")
        .values_list("issue__number", "slug")
    )
    issue_numbers = sorted({number for number, _ in stories})
    middle_number, middle_slug = stories[len(stories) // 2]
    return {
        "static": staticfiles_storage.url(STATIC_FILE),
        "issue": reverse("archive:issue", args=["bench-weekly", middle_number]),
        "story": reverse("archive:story", args=["bench-weekly", middle_number, middle_slug]),
        "issues": [reverse("archive:issue", args=["bench-weekly", n]) for n in issue_numbers],
        "stories": [
            reverse("archive:story", args=["bench-weekly", number, slug])
            for number, slug in stories
        ],
        "searches": [
            reverse("search:search") + "?" + urllib.parse.urlencode({"q": query})
            for query in queries
        ],
    }


def queries_count(paths: dict) -> list[str]:
    """SQL queries per page, in this process: the page rendered (with the cache emptied; the
    second such request, the first compiles templates), then kept in the cache."""
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from archive.freshness import stamp_forget

    def timer(execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            durations.append(time.perf_counter() - start)

    client = Client()
    lines = []
    for label, path in (
        ("issue page", paths["issue"]),
        ("story page", paths["story"]),
        ("search", paths["searches"][0]),
    ):
        seen = []
        for fresh in (True, True, False):
            if fresh:
                cache.clear()
                stamp_forget()
            durations: list[float] = []
            with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(timer):
                start = time.perf_counter()
                status = client.get(path).status_code
                elapsed = (time.perf_counter() - start) * 1000
            seen.append((status, len(captured), elapsed, max(durations, default=0) * 1000))
        (status, rendered, elapsed, slowest), kept = seen[1], seen[2]
        lines.append(
            f"  {label:<11} {status} {rendered:>2} queries rendered ({elapsed:.1f} ms, slowest "
            f"query {slowest:.2f} ms); {kept[1]} kept ({kept[2]:.1f} ms)"
        )
    return lines


def connect_ms() -> float:
    from django.db import connection

    samples = []
    for _ in range(20):
        connection.close()
        start = time.perf_counter()
        connection.ensure_connection()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def search_finds(base: str, path: str) -> bool:
    """Whether the search page lists stories (the placeholder shows only the form, and so does
    the real page over an empty index)."""
    body = fetch(base + path)[1].decode("utf-8", "replace")
    return re.search(r'href="/archive/[^/"]+/\d+/', body) is not None


def fetch(url: str, headers: dict | None = None) -> tuple[int, bytes, dict]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


# Processes --------------------------------------------------------------------------------


class Gunicorn:
    """gunicorn started on 127.0.0.1 and stopped by the PID in its pidfile."""

    def __init__(self, *, tmp: Path, env: dict, workers: int, name: str = "gunicorn"):
        self.tmp, self.env, self.workers = tmp, env, workers
        self.pidfile = tmp / f"{name}.pid"
        self.log = tmp / f"{name}.log"
        self.process: subprocess.Popen | None = None
        self.port = 0

    def start(self) -> str:
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        command = [
            sys.executable, "-m", "gunicorn", "bellcms.wsgi",
            "--bind", f"127.0.0.1:{self.port}", "--workers", str(self.workers),
            "--pid", str(self.pidfile), "--error-logfile", str(self.log),
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("gunicorn stopped:\n" + self.log_tail())
            try:
                if fetch(base + "/robots.txt")[0] == 200:
                    return base
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError("gunicorn did not answer within 60 s:\n" + self.log_tail())

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            pid = int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            pid = self.process.pid  # killed before it wrote its pidfile
        os.kill(pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.kill(pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def log_tail(self) -> str:
        if not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-20:])


def wrk(url: str, *, args, connections: int, seconds: int, paths_file=None, headers=()):
    """One wrk run; the figures the Lua script prints, plus req/s."""
    threads = min(args.threads, connections)
    command = [WRK, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    command += ["-s", str(LUA)]
    for header in headers:
        command += ["-H", header]
    env = dict(os.environ)
    if paths_file:
        env["ARCHIVE_PATHS"] = str(paths_file)
    else:
        env.pop("ARCHIVE_PATHS", None)
    done = subprocess.run(
        [*command, url], env=env, capture_output=True, text=True, timeout=seconds + 60
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("ARCHIVE-BENCH ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no figures:\n{done.stdout}\n{done.stderr}")
    figures = {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", line)}
    figures["rate"] = figures["requests"] / (figures["duration_us"] / 1e6)
    figures["errors"] = sum(figures[k] for k in ("connect", "read", "write", "status", "timeout"))
    figures["connections"] = connections
    return figures


# The run ----------------------------------------------------------------------------------


def measure(base: str, uncached: str, paths: dict, tmp: Path, args) -> list[tuple[str, dict]]:
    """Each endpoint: a short unrecorded warm-up (every worker fills its cache, compiles its
    templates), then the run that counts, in a fixed order. ``uncached`` is the gunicorn that
    keeps no page."""
    files = {}
    for key in ("issues", "stories", "searches"):
        files[key] = tmp / f"{key}.txt"
        files[key].write_text("\n".join(paths[key]) + "\n", encoding="utf-8")
    etag = fetch(base + paths["issue"])[2].get("ETag", "")
    wide = args.connections
    runs = [
        ("static file (whitenoise)", paths["static"], {}),
        ("issue page, kept", paths["issue"], {}),
        ("issue page, 304", paths["issue"], {"headers": [f"If-None-Match: {etag}"]}),
        ("issue page, rendered", "/", {"paths_file": files["issues"], "server": uncached}),
        ("story page, kept", paths["story"], {}),
        ("story page, rendered", "/", {"paths_file": files["stories"], "server": uncached}),
        ("search, distinct queries", "/", {"paths_file": files["searches"]}),
        ("search, 1 connection", "/", {"paths_file": files["searches"], "connections": 1}),
    ]
    rows = []
    for label, path, options in runs:
        server = options.pop("server", base)
        probe = path
        if "paths_file" in options:
            probe = options["paths_file"].read_text(encoding="utf-8").split("\n", 1)[0]
        headers = dict(header.split(": ", 1) for header in options.get("headers", []))
        status = fetch(server + probe, headers)[0]
        if status != (304 if headers else 200):
            print(f"  {label}: {probe} answers {status}!", flush=True)
        connections = options.pop("connections", wide)
        if args.warmup:
            wrk(server + path, args=args, connections=connections, seconds=args.warmup, **options)
        figures = wrk(
            server + path, args=args, connections=connections, seconds=args.duration, **options
        )
        rows.append((label, figures))
        print(f"  {label}: {figures['rate']:,.0f} req/s", flush=True)
    return rows


def table_print(rows: list[tuple[str, dict]]) -> None:
    floor = rows[0][1]["rate"]
    header = (
        f"{'endpoint':<26} {'conns':>5} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} "
        f"{'p99 ms':>7} {'ratio':>6} {'KiB/resp':>8} {'errors':>6}"
    )
    print(header)
    print("-" * len(header))
    for label, f in rows:
        size = f["bytes"] / max(f["requests"], 1) / 1024
        print(
            f"{label:<26} {f['connections']:>5} {f['rate']:>7,.0f} {f['p50'] / 1000:>7.1f} "
            f"{f['p95'] / 1000:>7.1f} {f['p99'] / 1000:>7.1f} {f['rate'] / floor:>6.2f} "
            f"{size:>8.1f} {f['errors']:>6}"
        )


def goals_print(rows: list[tuple[str, dict]], *, search_real: bool) -> None:
    by_label = dict(rows)
    ratio = by_label["issue page, kept"]["rate"] / by_label["static file (whitenoise)"]["rate"]
    p95 = by_label["search, 1 connection"]["p95"] / 1000
    loaded = by_label["search, distinct queries"]["p95"] / 1000
    met = {True: "met", False: "NOT met"}
    print(
        f"goal: kept issue page ≥ {ISSUE_RATIO_GOAL} of the static file's req/s: {ratio:.2f} — "
        f"{met[ratio >= ISSUE_RATIO_GOAL]}"
    )
    print(
        f"goal: search p95 < {SEARCH_P95_GOAL_MS} ms: {p95:.1f} ms on 1 connection — "
        f"{met[p95 < SEARCH_P95_GOAL_MS]} ({loaded:.0f} ms at full load, mostly queueing)"
        + (
            ""
            if search_real
            else "; but the search page lists no stories (a placeholder, or "
            "an empty index): not yet a figure of search"
        )
    )


def cache_empty(url: str) -> None:
    """Drop the archive pages this bench kept: all of db 7 (the bench's own), else its keys."""
    import redis

    if not url.startswith("redis"):
        return
    client = redis.Redis.from_url(url)
    if url == CACHE_URL:
        client.flushdb()
        return
    for key in client.scan_iter(match="*archive:page:*", count=1000):
        client.delete(key)


def environment(args, tmp: Path) -> dict:
    env = {
        "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE,
        "PYTHONPATH": os.pathsep.join([str(tmp), str(ROOT)]),
        "DATABASE_URL": args.database_url,
        "CACHE_URL": CACHE_URL if args.cache == "locmem" else args.cache,
        "CELERY_BROKER_URL": CACHE_URL,
        "EMAIL_URL": "smtp://127.0.0.1:25",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "SUBSCRIBERS_SUPPRESSION_KEY": secrets.token_urlsafe(32),
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "BELLCMS_BASE_URL": "http://127.0.0.1:8000",
        "SECURE_SSL_REDIRECT": "false",
        "DEBUG": "false",
        "CONN_MAX_AGE": str(args.conn_max_age),
        "STATIC_ROOT": str(tmp / "static"),
        "BELLCMS_VAR_DIR": str(tmp / "var"),
        "LOG_LEVEL": "WARNING",
    }
    if args.cache == "locmem":
        env["BENCH_LOCMEM_CACHE"] = "1"
    return env


def run(args, tmp: Path, gunicorn: Gunicorn, uncached: Gunicorn) -> None:
    import django
    from django.core.management import call_command
    from django.db import connection

    django.setup()
    start = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrated = time.perf_counter() - start
    start = time.perf_counter()
    if not data_ready(args):
        if not args.new_database:
            sys.exit("--reuse: the database holds other data; run once without --reuse")
        data_create(args)
    generated = time.perf_counter() - start
    reindex = search_reindex()
    from archive.freshness import stamp_bump

    stamp_bump()  # rows made in bulk sent no signals: pages kept before are not true now
    start = time.perf_counter()
    call_command("collectstatic", verbosity=0, interactive=False)
    collected = time.perf_counter() - start
    writer = Writer(sample_words(), seed=2026)
    paths = bench_paths(search_queries(writer, SEARCH_QUERIES))
    cache_empty(os.environ["CACHE_URL"])

    server = connection.connection.info.server_version
    import gunicorn as gunicorn_package

    print(
        f"{os.cpu_count()} CPUs (load average {os.getloadavg()[0]:.1f}), shared by wrk "
        f"({min(args.threads, args.connections)} threads), gunicorn "
        f"{gunicorn_package.__version__} ({args.workers} sync workers) and PostgreSQL "
        f"{server // 10000}.{server % 10000}; cache: "
        f"{'LocMemCache, one per worker' if args.cache == 'locmem' else args.cache}; "
        f"CONN_MAX_AGE={args.conn_max_age}"
    )
    print(
        f"data: {data_facts()}; "
        + (f"generated in {generated:.0f} s" if args.new_database else "reused")
        + f"; migrate {migrated:.1f} s, collectstatic {collected:.1f} s; {reindex}"
    )
    print(
        f"a new PostgreSQL connection takes {connect_ms():.1f} ms (median of 20), which "
        "CONN_MAX_AGE=0 would pay on every request that reads the database"
    )
    print("SQL queries per page (test client, this process; production settings):")
    for line in queries_count(paths):
        print(line)
    cache_empty(os.environ["CACHE_URL"])
    connection.close()

    base = gunicorn.start()
    uncached_base = uncached.start()
    search_real = search_finds(base, paths["searches"][0])
    print(
        f"gunicorn on {base}; wrk -t{min(args.threads, args.connections)} "
        f"-c{args.connections} -d{args.duration:g}s after {args.warmup:g} s of warm-up each; "
        f"static file {paths['static']}",
        flush=True,
    )
    rows = measure(base, uncached_base, paths, tmp, args)
    print()
    table_print(rows)
    print()
    goals_print(rows, search_real=search_real)
    print(
        f"load average at the end {os.getloadavg()[0]:.1f}: other work on the machine lowers "
        "every figure"
    )
    print(
        "kept: the stamp and, once served, the page from the worker's memory (else one cache "
        "read).\nrendered: a "
        "second gunicorn that keeps no page (ARCHIVE_CACHE_SECONDS=0) builds each one,\n"
        "cycling through all issues or stories. 304: If-None-Match with the "
        f"page's ETag. search: {SEARCH_QUERIES:,} distinct queries (common words, rare ones, "
        "pairs) in turn;\non 1 connection a request never waits behind another: its latency "
        "is the time one search takes. ratio: req/s over the static file's."
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DATABASE_URL)
    parser.add_argument("--reuse", action="store_true", help="keep the database's data if any")
    parser.add_argument("--issues", type=int, default=520)
    parser.add_argument("--stories", type=int, default=6)
    parser.add_argument(
        "--russian-issues", type=int, default=0, help="also a Russian newsletter this long"
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument(
        "--cache", default=CACHE_URL, help=f"a cache URL, or locmem (default {CACHE_URL})"
    )
    parser.add_argument(
        "--conn-max-age", type=int, default=60, help="as the CONN_MAX_AGE setting (production: 60)"
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds of each wrk run")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up before each")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    args = parser.parse_args()
    # Stopped with SIGTERM, still stop gunicorn (``finally``).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if not Path(WRK).exists():
        sys.exit(f"{WRK} not found (apt-get install wrk)")

    tmp = Path(tempfile.mkdtemp(prefix="bellcms-bench-archive-"))
    (tmp / f"{SETTINGS_MODULE}.py").write_text(SETTINGS)
    (tmp / "var").mkdir()
    env = environment(args, tmp)
    os.environ.update(env)
    sys.path.insert(0, str(tmp))
    keep = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV"}
    child_env = {key: value for key, value in os.environ.items() if key in keep} | env
    gunicorn = Gunicorn(tmp=tmp, env=child_env, workers=args.workers)
    uncached = Gunicorn(
        tmp=tmp,
        env={**child_env, "ARCHIVE_CACHE_SECONDS": "0"},
        workers=args.workers,
        name="gunicorn-uncached",
    )
    try:
        args.new_database = database_prepare(args.database_url, reuse=args.reuse)
        run(args, tmp, gunicorn, uncached)
    finally:
        gunicorn.stop()
        uncached.stop()
        try:
            cache_empty(env["CACHE_URL"])
        except Exception as error:  # the figures are printed: say so, go on
            print(f"could not empty the cache: {error}")
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"database {urllib.parse.urlsplit(args.database_url).path[1:]} kept: --reuse")


if __name__ == "__main__":
    main()
