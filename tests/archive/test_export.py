"""manage.py export_static: the public archive as static files that any mirror serves and a
reader can open from disk, written again only where something changed."""

import datetime as dt
import json
import os
import re
from html.parser import HTMLParser
from io import StringIO
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from django.conf import settings
from django.core.cache import caches
from django.core.management import CommandError, call_command
from django.utils import timezone
from playwright.sync_api import expect

from archive.freshness import stamp_forget
from issues.models import Issue
from tests.factories import BlockFactory, IssueFactory, StoryFactory

pytestmark = pytest.mark.django_db

PAST = dt.timedelta(hours=1)
MIRRORS = "https://bell-mirror.example.org/\nhttps://ipfs.example.net/ipns/thebell/"
URL_ATTRIBUTES = {"href", "src", "action", "srcset", "poster", "formaction"}
ISSUE_TITLE = "The Kremlin view on Putin-Trump talks"


@pytest.fixture
def sample_issue(sample_issue):
    issue = sample_issue
    issue.newsletter.mirror_urls = MIRRORS
    issue.newsletter.save()
    return issue


def published(newsletter, number, **fields):
    issue = IssueFactory(
        newsletter=newsletter,
        number=number,
        status=Issue.Status.SENT,
        published_at=timezone.now() - PAST - dt.timedelta(days=number),
        **fields,
    )
    story = StoryFactory(issue=issue, position=1, headline=f"Story of issue {number}")
    BlockFactory(story=story, position=1, text=f"Words of issue {number}.")
    return issue


def export(directory: Path, *args) -> dict[str, set[str]]:
    """Run the command; what it reports, by verb: {"wrote": {...}, "removed": {...}}."""
    out = StringIO()
    call_command("export_static", str(directory), *args, stdout=out)
    report = {"wrote": set(), "removed": set()}
    for line in out.getvalue().splitlines():
        verb, _, name = line.partition(" ")
        if verb in report:
            report[verb].add(name)
    return report


def files_of(root: Path) -> dict[str, float]:
    return {
        str(path.relative_to(root)): path.stat().st_mtime_ns
        for path in root.rglob("*")
        if path.is_file()
    }


def issue_dir(issue) -> str:
    return f"archive/{issue.newsletter.slug}/{issue.number}/"


class Addresses(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, dict, str, str]] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        for name, value in attrs:
            if name in URL_ATTRIBUTES and value is not None:
                self.found.append((tag, values, name, value))


def addresses(page: Path):
    parser = Addresses()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser.found


def test_export_writes_published_issues_and_nothing_unpublished(sample_issue, tmp_path):
    newsletter = sample_issue.newsletter
    draft = IssueFactory(newsletter=newsletter, number=2, title="A draft nobody may see")
    StoryFactory(issue=draft, headline="Unpublished story")
    scheduled = IssueFactory(
        newsletter=newsletter,
        number=3,
        title="An embargoed issue",
        status=Issue.Status.SCHEDULED,
        publish_at=timezone.now() + PAST,
    )

    export(tmp_path)

    files = set(files_of(tmp_path))
    stories = [s.slug for s in sample_issue.stories.order_by("position")]
    assert {
        "index.html",
        "archive/index.html",
        f"archive/{newsletter.slug}/index.html",
        f"archive/{newsletter.slug}/rss.xml",
        f"archive/{newsletter.slug}/atom.xml",
        f"{issue_dir(sample_issue)}index.html",
        *(f"{issue_dir(sample_issue)}{slug}/index.html" for slug in stories),
        "sitemap.xml",
        "search/index.html",
        "search/index.js",
        "static/archive/archive.css",
        "static/archive/mirror-search.js",
        "static/subscribers/public.css",
        "static/bellcms/favicon.svg",
    } <= files
    assert not any(name.startswith((issue_dir(draft), issue_dir(scheduled))) for name in files)
    for name in files:
        text = (tmp_path / name).read_bytes().decode("utf-8")
        assert "A draft nobody may see" not in text and "Unpublished story" not in text
        assert "An embargoed issue" not in text
    issue_page = (tmp_path / issue_dir(sample_issue) / "index.html").read_text()
    assert f'<h1 id="issue-title">{ISSUE_TITLE}</h1>' in issue_page
    # The footer names the mirrors; canonical addresses name the original site.
    assert '<a href="https://bell-mirror.example.org/">' in issue_page
    canonical = f"{settings.BELLCMS_BASE_URL}/{issue_dir(sample_issue)}"
    assert f'<link rel="canonical" href="{canonical}">' in issue_page
    assert f'<meta property="og:url" content="{canonical}">' in issue_page


def test_export_links_are_relative_and_lead_to_files(sample_issue, tmp_path):
    newsletter = sample_issue.newsletter
    for number in range(2, 24):  # more than a page of the list
        published(newsletter, number)
    story = sample_issue.stories.order_by("position").first()
    main_site = settings.BELLCMS_BASE_URL
    BlockFactory(
        story=story,
        position=90,
        text=f"See [Reuters](https://www.reuters.com/world/) and [issue 2]({main_site}"
        f"/archive/{newsletter.slug}/2/), or [write to us](mailto:news@thebell.example).",
    )

    export(tmp_path)

    assert (tmp_path / "archive/page/2/index.html").is_file()
    assert (tmp_path / f"archive/{newsletter.slug}/page/2/index.html").is_file()
    signup = f"{main_site}/subscribe/{newsletter.slug}/"
    checked = 0
    for page in tmp_path.rglob("*.html"):
        for tag, attrs, name, value in addresses(page):
            where = f"{page.relative_to(tmp_path)}: <{tag} {name}={value!r}>"
            parts = urlsplit(value)
            if value.startswith("#"):
                continue
            if tag == "form" and attrs.get("method") == "post":
                assert value == signup, where  # sign-up posts to the main site
                continue
            if tag == "link" and attrs.get("rel") == "canonical":
                assert value.startswith(main_site), where
                continue
            if parts.scheme in {"http", "https", "mailto"}:
                # Navigation to other sites; the main site only for what a copy cannot do.
                assert tag == "a", where
                if value.startswith(main_site):
                    assert value == f"{main_site}/admin/", where
                continue
            assert not parts.scheme and not parts.netloc, where
            assert not value.startswith("/"), where
            target = (page.parent / unquote(parts.path)).resolve()
            assert target.is_file(), where
            assert tmp_path.resolve() in target.parents, where
            checked += 1
    assert checked > 200
    # A link in a story to an issue on the main site leads to that issue in the copy.
    story_page = tmp_path / issue_dir(sample_issue) / story.slug / "index.html"
    assert 'href="../../2/index.html"' in story_page.read_text()
    # Every page's search box goes to the copy's search page.
    assert 'action="../../../../search/index.html"' in story_page.read_text()


def test_export_list_pages_drop_filters(sample_issue, tmp_path):
    export(tmp_path)
    listing = (tmp_path / "archive/index.html").read_text()
    (form,) = re.findall(r'<form class="filters"[^>]*>', listing)
    assert form.endswith(" hidden>")
    assert f'href="{sample_issue.newsletter.slug}/1/index.html"' in listing


def test_export_search_index_holds_each_published_story(sample_issue, tmp_path):
    draft = IssueFactory(newsletter=sample_issue.newsletter, number=2)
    StoryFactory(issue=draft, headline="Unpublished story")

    export(tmp_path)

    script = (tmp_path / "search/index.js").read_text()
    prefix = "window.BELLCMS_SEARCH = "
    payload = script[script.index(prefix) + len(prefix) :].rstrip().removesuffix(";")
    entries = json.loads(payload)["stories"]
    headlines = [entry["headline"] for entry in entries]
    assert headlines == [s.headline for s in sample_issue.stories.order_by("position")]
    for entry in entries:
        assert (tmp_path / unquote(entry["url"])).is_file()
        assert entry["issue"] == f"The Bell Weekly #1: {ISSUE_TITLE}"
    assert "shaken Russia" not in entries[0]["text"]  # the intro is the issue's, not a story's
    assert "Trump promised to stop the war in 24 hours" in entries[0]["text"]
    assert "Why the world should care" not in entries[0]["text"]


def test_export_rerun_writes_nothing(sample_issue, tmp_path):
    first = export(tmp_path)
    before = files_of(tmp_path)

    again = export(tmp_path)

    assert first["wrote"] and again == {"wrote": set(), "removed": set()}
    assert files_of(tmp_path) == before


def test_export_after_a_block_edit_rewrites_only_that_issues_pages(
    sample_issue, tmp_path, django_capture_on_commit_callbacks
):
    other = published(sample_issue.newsletter, 2)
    export(tmp_path)
    before = files_of(tmp_path)
    first, second = sample_issue.stories.order_by("position")
    block = first.blocks.order_by("position").first()

    with django_capture_on_commit_callbacks(execute=True):  # the archive's stamp moves
        block.text = "A sentence the newsroom corrected after publication."
        block.save()
    report = export(tmp_path)

    here = issue_dir(sample_issue)
    assert {f"{here}index.html", f"{here}{first.slug}/index.html"} <= report["wrote"]
    # The other story's page was rendered again but says the same: left as it was.
    assert f"{here}{second.slug}/index.html" not in report["wrote"]
    shared = {"search/index.js", "sitemap.xml", "index.html", "archive/index.html"}
    shared |= {f"archive/{sample_issue.newsletter.slug}/{name}" for name in ("rss.xml", "atom.xml")}
    shared |= {f"archive/{sample_issue.newsletter.slug}/index.html"}
    assert report["wrote"] - {f"{here}index.html", f"{here}{first.slug}/index.html"} <= shared
    assert "search/index.js" in report["wrote"]
    after = files_of(tmp_path)
    for name, mtime in before.items():
        if name not in report["wrote"] and name != ".bellcms-export.json":
            assert after[name] == mtime, name
    assert not any(name.startswith(issue_dir(other)) for name in report["wrote"])
    page = (tmp_path / here / first.slug / "index.html").read_text()
    assert "A sentence the newsroom corrected after publication." in page


def test_export_removes_an_issue_no_longer_public_and_keeps_files_it_did_not_write(
    sample_issue, tmp_path
):
    other = published(sample_issue.newsletter, 2)
    (tmp_path / "CNAME").write_text("bell-mirror.example.org\n")
    export(tmp_path)
    assert (tmp_path / issue_dir(sample_issue) / "index.html").is_file()

    # Put back to draft by hand in the database: the app never takes an issue out of the record.
    Issue.objects.filter(pk=sample_issue.pk).update(status=Issue.Status.DRAFT)
    # update() sends no signal, so nothing moved the stamp: forget the pages kept.
    caches["default"].clear()
    stamp_forget()
    report = export(tmp_path)

    here = issue_dir(sample_issue)
    assert f"{here}index.html" in report["removed"]
    assert not (tmp_path / here).exists()
    assert (tmp_path / issue_dir(other) / "index.html").is_file()
    assert (tmp_path / "CNAME").read_text() == "bell-mirror.example.org\n"
    assert ISSUE_TITLE not in (tmp_path / "archive/index.html").read_text()
    assert ISSUE_TITLE not in (tmp_path / "search/index.js").read_text()


def test_export_refuses_a_file_or_a_directory_it_cannot_create(tmp_path):
    taken = tmp_path / "taken"
    taken.write_text("not a directory")
    with pytest.raises(CommandError, match="is a file, not a directory"):
        call_command("export_static", str(taken), stdout=StringIO())
    with pytest.raises(CommandError, match="Cannot create"):
        call_command("export_static", str(taken / "below"), stdout=StringIO())


def test_export_refuses_a_directory_it_cannot_write(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    if os.access(locked, os.W_OK):  # root writes into any directory, but not into /proc
        locked = Path("/proc/self")
    with pytest.raises(CommandError, match="not writable"):
        call_command("export_static", str(locked), stdout=StringIO())


# Transactional: once Playwright's event loop runs in this thread, Django may answer on another
# connection, which sees committed rows only.
@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_export_reads_and_searches_from_disk_in_a_browser(sample_issue, tmp_path, page):
    export(tmp_path)
    second = sample_issue.stories.order_by("position").last()

    page.goto((tmp_path / "index.html").as_uri())
    page.get_by_role("link", name=re.compile(ISSUE_TITLE)).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(ISSUE_TITLE)
    assert page.url.startswith("file://") and page.url.endswith("/1/index.html")

    page.get_by_role("searchbox", name="Search the archive").fill("Fake NEWS scandal")
    page.get_by_role("searchbox", name="Search the archive").press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Stories containing every word: 1.")
    result = page.locator("#mirror-search-results li")
    expect(result).to_have_count(1)
    expect(result.locator("mark").first).to_have_text(re.compile("fake", re.IGNORECASE))
    result.get_by_role("link", name=second.headline).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(second.headline)
    assert page.url.endswith(f"/{second.slug}/index.html")


def test_export_renders_a_corrected_issue_again_and_writes_the_corrections_page(
    sample_issue, tmp_path, editor
):
    from issues.services import story_correct

    export(tmp_path)
    story = sample_issue.stories.order_by("position").first()
    # Two corrections: the second leaves the issue's own row as the first left it.
    for note in ("The talks were on Friday.", "The venue was Anchorage."):
        story_correct(story=story, note=note, kind="correction", acting_user=editor)
        caches["default"].clear()
        stamp_forget()
        report = export(tmp_path)

        here = issue_dir(sample_issue)
        assert f"{here}{story.slug}/index.html" in report["wrote"]
        assert note in (tmp_path / here / story.slug / "index.html").read_text()
        corrections = tmp_path / f"archive/{sample_issue.newsletter.slug}/corrections/index.html"
        assert note in corrections.read_text()
        log = tmp_path / f"archive/{sample_issue.newsletter.slug}/corrections/log.json"
        assert json.loads(log.read_text())["steps"][0]["note"] == note
