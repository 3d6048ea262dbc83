"""Import and render an issue: how long each step takes, on the sample and on a long issue.

    .venv/bin/python bench/rendering.py [--repeat 200] [--stories 40]

Runs on a throw-away SQLite database (or on DATABASE_URL when it is set). Prints figures; it
asserts nothing. Rendering is done once per issue at send time, so its cost is per issue, not
per subscriber; what must stay small is the per-recipient part that dispatch adds later.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("BELLCMS_VAR_DIR", tempfile.mkdtemp(prefix="bellcms-bench-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bellcms.settings.local")


def timed(function, repeat):
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000, min(samples) * 1000


def long_issue_markdown(sample_text, stories):
    """The sample's stories, repeated, as one Markdown issue (the importer's other format)."""
    from issues.importing import parse_issue_text

    parsed = parse_issue_text(sample_text)
    lines = [f"# {parsed.kicker}: A long issue", "", parsed.intro, ""]
    marks = {"heading": "### ", "bullet": "- ", "paragraph": ""}
    for n in range(stories):
        story = parsed.stories[n % len(parsed.stories)]
        lines += [f"## {story.headline} ({n + 1})", ""]
        for block in story.blocks:
            lines += [marks[block.kind] + block.text, ""]
        lines += ["Why the world should care:", "", story.takeaway, ""]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--stories", type=int, default=40)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from issues.importing import issue_import
    from issues.models import Issue
    from issues.rendering import issue_render, issue_render_eml

    call_command("migrate", verbosity=0)
    sample = ROOT / "issues" / "samples" / "bell-weekly-kremlin-view.txt"
    sample_text = sample.read_text(encoding="utf-8")
    long_text = long_issue_markdown(sample_text, args.stories)

    print(f"database: {connection.vendor}; repeat: {args.repeat}")
    import_ms, _ = timed(lambda: issue_import(path=sample), max(1, args.repeat // 10))
    print(f"import sample ({len(sample_text.encode()) / 1024:.1f} KiB): {import_ms:.1f} ms median")
    long_ms, _ = timed(
        lambda: issue_import(text=long_text, filename="long.md", markup="markdown"), 3
    )
    print(
        f"import {args.stories}-story issue ({len(long_text.encode()) / 1024:.0f} KiB): "
        f"{long_ms:.0f} ms median"
    )

    for label, issue in (
        ("sample", Issue.objects.order_by("pk").first()),
        (f"{args.stories} stories", Issue.objects.order_by("-pk").first()),
    ):
        rendered = issue_render(issue=issue)
        render_ms, _ = timed(lambda issue=issue: issue_render(issue=issue), args.repeat)
        eml_ms, _ = timed(lambda issue=issue: issue_render_eml(issue=issue), args.repeat)
        message_ms, _ = timed(
            lambda r=rendered: r.message(to=["a@example.org"]).message().as_bytes(), args.repeat
        )
        print(
            f"{label}: render text+html {render_ms:.1f} ms, .eml {eml_ms:.1f} ms, "
            f"each further message as bytes {message_ms:.2f} ms "
            f"(html {len(rendered.html.encode()) / 1024:.0f} KiB, "
            f"text {len(rendered.text.encode()) / 1024:.0f} KiB)"
        )


if __name__ == "__main__":
    main()
