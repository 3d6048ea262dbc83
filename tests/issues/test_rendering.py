"""Rendering an issue as plain text, as an HTML email and as a complete .eml message."""

import email
import email.policy
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from io import StringIO

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils.html import escape

from issues.models import Block, Issue
from issues.rendering import (
    inline_html,
    inline_text,
    issue_render,
    issue_render_context,
    issue_render_eml,
    issue_render_html,
    issue_render_message,
    issue_render_text,
)
from tests.factories import BlockFactory, IssueFactory, NewsletterFactory, StoryFactory

# The underlines the text form puts under the subject and each headline: decoration, not words.
DECORATIVE_LINE = re.compile(r"^[=-]+$")
# The sample's typographic apostrophe, which must come through every rendering unchanged.
RSQUO = "\N{RIGHT SINGLE QUOTATION MARK}"
# The sub-headings of the sample issue; every other line's role follows from its position.
SAMPLE_HEADINGS = {f"Trump{RSQUO}s signals", "The Kremlin reaction"}
TAKEAWAY_LINE = "Why the world should care:"


def build_sample_issue(sample_text):
    """The sample issue built with factories, as the importer is meant to store it."""
    lines = [line for line in sample_text.splitlines() if line.strip()]
    kicker, title = lines[0].split(": ", 1)
    issue = IssueFactory(
        newsletter=NewsletterFactory(kicker=kicker), title=title, intro=lines[1], number=1
    )
    story, position, expecting = None, 0, "headline"
    for line in lines[2:]:
        if expecting == "headline":
            story = StoryFactory(issue=issue, position=position + 1, headline=line, takeaway="")
            position, block_position, expecting = position + 1, 0, "body"
        elif expecting == "takeaway":
            story.takeaway = line
            story.save()
            expecting = "headline"
        elif line == TAKEAWAY_LINE:
            expecting = "takeaway"
        else:
            block_position += 1
            if line.startswith("- "):
                kind, text = Block.Kind.BULLET, line[2:]
            elif line in SAMPLE_HEADINGS:
                kind, text = Block.Kind.HEADING, line
            else:
                kind, text = Block.Kind.PARAGRAPH, line
            BlockFactory(story=story, position=block_position, kind=kind, text=text)
    return issue


def words_lines(text):
    """The non-blank lines of a text rendering, without the decorative ones."""
    return [line for line in text.splitlines() if line.strip() and not DECORATIVE_LINE.match(line)]


@dataclass
class Element:
    tag: str
    attrs: dict
    parent: "Element | None" = None
    children: list = field(default_factory=list)

    def iter(self):
        yield self
        for child in self.children:
            if isinstance(child, Element):
                yield from child.iter()

    def find_all(self, tag):
        return [element for element in self.iter() if element.tag == tag]

    def find_class(self, name):
        return [e for e in self.iter() if name in (e.attrs.get("class") or "").split()]

    @property
    def text(self):
        return "".join(child if isinstance(child, str) else child.text for child in self.children)


class TreeBuilder(HTMLParser):
    VOID = {"meta", "br", "img", "hr", "link", "input", "source", "wbr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = self.current = Element("#document", {})
        self.declarations = []

    def handle_decl(self, decl):
        self.declarations.append(decl)

    def handle_starttag(self, tag, attrs):
        element = Element(tag, dict(attrs), parent=self.current)
        self.current.children.append(element)
        if tag not in self.VOID:
            self.current = element

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Element(tag, dict(attrs), parent=self.current))

    def handle_endtag(self, tag):
        node = self.current
        while node.parent is not None and node.tag != tag:
            node = node.parent
        if node.parent is not None:
            self.current = node.parent

    def handle_data(self, data):
        self.current.children.append(data)


def parse_html(html):
    builder = TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder


def style_of(element):
    """An inline style attribute as a dict, values without spaces."""
    declarations = (part.split(":", 1) for part in element.attrs.get("style", "").split(";"))
    return {
        name.strip(): value.replace(" ", "")
        for name, value in (d for d in declarations if len(d) == 2)
    }


@pytest.fixture
def sample_issue(db, sample_text):
    return build_sample_issue(sample_text)


@pytest.fixture
def linked_issue(db):
    story = StoryFactory(
        headline="Links",
        takeaway="See **[the archive](https://thebell.example/archive)** for more.",
    )
    BlockFactory(
        story=story,
        text="Read [The Bell](https://thebell.example/en/) and *mail* <https://plain.example>.",
    )
    return story.issue


# Inline Markdown ------------------------------------------------------------------------------


def test_inline_html_renders_links_emphasis_and_strong():
    html = inline_html("A *quiet* **loud** [link](https://thebell.example/a?b=1&c=2).")

    assert html == (
        'A <em>quiet</em> <strong>loud</strong> <a href="https://thebell.example/a?b=1&amp;c=2"'
        ' target="_blank" rel="noopener noreferrer">link</a>.'
    )


def test_inline_text_drops_emphasis_and_writes_links_as_text_then_url():
    text = inline_text("A *quiet* **loud** [link](https://thebell.example/a) and _more_.")

    assert text == "A quiet loud link (https://thebell.example/a) and more."


def test_inline_text_writes_a_link_once_when_its_text_is_the_url():
    markdown = (
        "[https://thebell.example](https://thebell.example)"
        " [me@thebell.example](mailto:me@thebell.example)"
    )

    assert inline_text(markdown) == "https://thebell.example me@thebell.example"


@pytest.mark.parametrize(
    "original",
    [
        r"*not bold* _x_ [y](z) `code` <b>tag</b> ~~gone~~ C:\temp\ 2*3",
        "# not a heading",
        "> not a quote",
        "- not a bullet",
        "1. not a list",
        "AT&T &amp; &#169; &copy;",
        "<https://not.an.autolink> ![not](an image)",
        f"“Quoted” — ünïcode, Zaporizhzhia{RSQUO}s $2.9 billion",
    ],
)
def test_inline_text_gives_back_what_the_importer_escaped(original):
    from issues.importing import markdown_escape

    escaped = markdown_escape(original)

    assert inline_text(escaped) == original
    assert inline_html(escaped) == escape(original)


@pytest.mark.parametrize(
    "markdown",
    [
        "<script>alert('x')</script>",
        '<img src="x" onerror="alert(1)">',
        "[click](javascript:alert(1))",
        "[click](JAVASCRIPT:alert(1))",
        '<a href="javascript:alert(1)">click</a>',
        "![pixel](https://tracker.example/p.gif)",
        "<b onmouseover=alert(1)>raw</b>",
        "<https://autolink.example>",
        "[data](data:text/html;base64,PHNjcmlwdD4=)",
        "[relative](/admin/)",
        "&lt;script&gt;",
    ],
)
def test_inline_html_leaves_raw_html_and_bad_links_harmless(markdown):
    parsed = parse_html(inline_html(markdown))

    elements = list(parsed.root.iter())[1:]
    assert {element.tag for element in elements} <= {"a"}
    for element in elements:
        assert set(element.attrs) == {"href", "target", "rel"}
        assert element.attrs["href"].startswith("https://")
    assert not any(element.tag in {"script", "img", "b"} for element in elements)


def test_inline_html_shows_raw_html_as_the_text_that_was_typed():
    assert inline_html("<script>alert('x')</script>") == "&lt;script&gt;alert('x')&lt;/script&gt;"
    assert inline_text("<script>alert('x')</script>") == "<script>alert('x')</script>"


def test_inline_html_keeps_links_to_mail_addresses():
    html = inline_html("[write to us](mailto:tips@thebell.example)")

    assert 'href="mailto:tips@thebell.example"' in html


# The text form --------------------------------------------------------------------------------


def test_issue_render_text_gives_back_every_line_of_the_sample(sample_issue, sample_text):
    text = issue_render_text(issue=sample_issue)

    assert words_lines(text) == words_lines(sample_text)


def test_issue_render_text_gives_back_every_line_of_the_imported_sample(
    db, sample_path, sample_text
):
    call_command("import_issue", str(sample_path), stdout=StringIO())

    text = issue_render_text(issue=Issue.objects.get())

    assert words_lines(text) == words_lines(sample_text)


# Everything a Markdown editor offers that the stored format has no syntax of its own for.
MARKED_UP_ISSUE = """\
# THE BELL WEEKLY: Markup

Hello! Read [our site][bell] and AT&amp;T&#39;s filing &mdash; in full.

## Sources

We asked <https://thebell.example/ask> and <tips@thebell.example>; see `sanctions*.csv`
and the *full* **list** at [the archive](https://thebell.example/archive "Archive").

- A &copy; 2025 bullet linking [The Bell][] again, `<b>` and all

Why the world should care: _Because_ [it matters][bell].

[bell]: https://thebell.example/en "The Bell"
[The Bell]: <https://thebell.example/>
"""


def test_issue_render_shows_an_imported_markdown_issue_as_its_author_meant(db, tmp_path):
    path = tmp_path / "markup.md"
    path.write_text(MARKED_UP_ISSUE, encoding="utf-8")
    call_command("import_issue", str(path), stdout=StringIO(), stderr=StringIO())
    rendered = issue_render(issue=Issue.objects.get())

    assert words_lines(rendered.text) == [
        "THE BELL WEEKLY: Markup",
        "Hello! Read our site (https://thebell.example/en) and AT&T's filing — in full.",
        "Sources",
        "We asked https://thebell.example/ask and tips@thebell.example; see sanctions*.csv and "
        "the full list at the archive (https://thebell.example/archive).",
        "- A © 2025 bullet linking The Bell (https://thebell.example/) again, <b> and all",
        "Why the world should care:",
        "Because it matters (https://thebell.example/en).",
    ]
    body = parse_html(rendered.html).root.find_class("container")[0]
    assert [(a.text, a.attrs["href"]) for a in body.find_all("a")] == [
        ("our site", "https://thebell.example/en"),
        ("https://thebell.example/ask", "https://thebell.example/ask"),
        ("tips@thebell.example", "mailto:tips@thebell.example"),
        ("the archive", "https://thebell.example/archive"),
        ("The Bell", "https://thebell.example/"),
        ("it matters", "https://thebell.example/en"),
    ]
    assert [e.text for e in body.find_all("em")] == ["full", "Because"]
    assert [e.text for e in body.find_all("strong")] == ["list"]
    words = " ".join(body.text.split())
    assert "Read our site and AT&T's filing — in full." in words
    assert "see sanctions*.csv and the full list at the archive." in words
    assert "A © 2025 bullet linking The Bell again, <b> and all" in words
    assert not any(mark in words for mark in ("[", "]", "`", "&amp;", "&#", "<https"))


def test_issue_render_text_separates_blocks_with_blank_lines(sample_issue):
    paragraphs = issue_render_text(issue=sample_issue).split("\n\n")

    title, headline = sample_issue.subject, "Putin-Trump talks: What to expect"
    assert paragraphs[0] == f"{title}\n{'=' * len(title)}"
    assert paragraphs[1].startswith("Hello! This week we cover")
    assert paragraphs[2] == f"{headline}\n{'-' * len(headline)}"
    assert paragraphs[4] == f"Trump{RSQUO}s signals"
    bullets = [p for p in paragraphs if p.startswith("- ")]
    assert len(bullets) == 8
    assert all("\n" not in bullet for bullet in bullets)
    takeaways = [p for p in paragraphs if p.startswith("Why the world should care:\n")]
    assert len(takeaways) == 2


def test_issue_render_text_writes_links_as_text_then_url(linked_issue):
    text = issue_render_text(issue=linked_issue)

    assert "Read The Bell (https://thebell.example/en/) and mail <https://plain.example>." in text
    assert "See the archive (https://thebell.example/archive) for more." in text


def test_issue_render_text_leaves_out_an_empty_intro_and_takeaway(db):
    story = StoryFactory(issue=IssueFactory(intro=""), headline="Only news", takeaway="")
    BlockFactory(story=story, text="Body.")

    text = issue_render_text(issue=story.issue)

    assert words_lines(text)[1:] == ["Only news", "Body."]


# The context ----------------------------------------------------------------------------------


def test_issue_render_context_groups_consecutive_bullets_into_one_list(db):
    story = StoryFactory()
    kinds = ["bullet", "bullet", "paragraph", "bullet", "heading", "bullet", "bullet", "bullet"]
    for position, kind in enumerate(kinds, start=1):
        BlockFactory(story=story, position=position, kind=kind, text=f"{kind} {position}")

    (rendered_story,) = issue_render_context(issue=story.issue)["stories"]

    shape = [(part.kind, len(part.fragments)) for part in rendered_story["body"]]
    assert shape == [("list", 2), ("paragraph", 1), ("list", 1), ("heading", 1), ("list", 3)]


def test_issue_render_queries_the_same_few_times_however_long_the_issue(
    db, django_assert_num_queries
):
    short = StoryFactory().issue
    BlockFactory(story=short.stories.get())
    long = IssueFactory()
    for _ in range(5):
        story = StoryFactory(issue=long)
        for kind in ["heading", "paragraph", "bullet", "bullet", "paragraph"] * 2:
            BlockFactory(story=story, kind=kind)

    for issue in (short, long):
        # The issue, its stories, their blocks, their corrections and their withdrawals, and
        # the issue before it (whose publication starts the corrections it carries: none here).
        with django_assert_num_queries(6):
            issue_render(issue=issue)


# The HTML form --------------------------------------------------------------------------------


def test_issue_render_html_is_a_complete_email_document(sample_issue):
    html = issue_render_html(issue=sample_issue)
    parsed = parse_html(html)

    assert html.lower().startswith("<!doctype html>")
    (root,) = parsed.root.find_all("html")
    assert root.attrs["lang"] == "en"
    metas = parsed.root.find_all("meta")
    assert any(meta.attrs.get("charset") == "utf-8" for meta in metas)
    assert html.lower().index("charset") < 1024
    named = {meta.attrs.get("name"): meta.attrs.get("content") for meta in metas}
    assert named["viewport"].startswith("width=device-width")
    assert named["color-scheme"] == "light dark"
    (title,) = parsed.root.find_all("title")
    assert title.text == "THE BELL WEEKLY: The Kremlin view on Putin-Trump talks"


def test_issue_render_html_shows_kicker_title_and_headlines_in_order(sample_issue):
    parsed = parse_html(issue_render_html(issue=sample_issue))

    assert parsed.root.find_class("kicker")[0].text == "THE BELL WEEKLY"
    assert parsed.root.find_all("h1")[0].text == "The Kremlin view on Putin-Trump talks"
    assert [h2.text for h2 in parsed.root.find_all("h2")] == [
        "Putin-Trump talks: What to expect",
        "Fake news scandals hit Russian independent media",
    ]
    assert [h3.text for h3 in parsed.root.find_all("h3")] == [
        f"Trump{RSQUO}s signals",
        "The Kremlin reaction",
    ]


def test_issue_render_html_lists_each_storys_four_bullets_in_one_list(sample_issue):
    parsed = parse_html(issue_render_html(issue=sample_issue))

    lists = parsed.root.find_all("ul")
    assert [len(ul.find_all("li")) for ul in lists] == [4, 4]
    assert lists[1].find_all("li")[3].text.startswith(f"It{RSQUO}s still unclear why Nesoyeva")


def test_issue_render_html_boxes_each_takeaway_under_its_label(sample_issue):
    parsed = parse_html(issue_render_html(issue=sample_issue))

    boxes = parsed.root.find_class("takeaway")
    assert len(boxes) == 2
    assert boxes[0].find_class("takeaway-label")[0].text == "Why the world should care"
    assert "border-left" in style_of(boxes[0])
    assert boxes[1].text.strip().endswith("will get even stricter in response.")


def test_issue_render_html_inlines_the_layout_and_keeps_only_media_rules(sample_issue):
    parsed = parse_html(issue_render_html(issue=sample_issue))

    (container,) = parsed.root.find_class("container")
    assert style_of(container)["max-width"] == "600px"
    assert parsed.root.find_all("h2")[0].attrs["style"]
    assert "font-family" in style_of(parsed.root.find_class("story")[0])
    (style,) = parsed.root.find_all("style")
    assert "prefers-color-scheme:dark" in style.text.replace(" ", "")
    assert "max-width:620px" in style.text.replace(" ", "")
    outside_media = re.sub(r"@media[^{]*\{(?:[^{}]*\{[^{}]*\})*\s*\}", "", style.text)
    assert outside_media.strip() == ""


def test_issue_render_html_makes_hostile_story_text_harmless(db):
    story = StoryFactory(
        headline="<script>alert('headline')</script>",
        takeaway='<img src=x onerror="alert(1)">',
    )
    BlockFactory(story=story, text="<script>alert('block')</script> [x](javascript:alert(1))")
    BlockFactory(story=story, kind=Block.Kind.BULLET, text='<a href="javascript:alert(1)">a</a>')
    BlockFactory(story=story, kind=Block.Kind.HEADING, text="<iframe src=https://evil.example>")

    parsed = parse_html(issue_render_html(issue=story.issue))

    tags = {element.tag for element in parsed.root.iter()}
    assert not tags & {"script", "img", "iframe", "a"}
    assert not any(
        name.startswith("on") for element in parsed.root.iter() for name in element.attrs
    )
    assert parsed.root.find_all("h2")[0].text == "<script>alert('headline')</script>"
    assert "<script>alert('block')</script> [x](javascript:alert(1))" in parsed.root.text
    assert '<img src=x onerror="alert(1)">' in parsed.root.text


def test_issue_render_html_renders_links_as_anchors(linked_issue):
    parsed = parse_html(issue_render_html(issue=linked_issue))

    anchors = {a.text: a.attrs["href"] for a in parsed.root.find_all("a")}
    assert anchors == {
        "The Bell": "https://thebell.example/en/",
        "the archive": "https://thebell.example/archive",
    }
    assert "color" in style_of(parsed.root.find_all("a")[0])


# The message ----------------------------------------------------------------------------------


def test_issue_render_eml_holds_the_text_and_html_forms(sample_issue):
    message = email.message_from_bytes(
        issue_render_eml(issue=sample_issue), policy=email.policy.default
    )

    assert message.get_content_type() == "multipart/alternative"
    assert message["Subject"] == "THE BELL WEEKLY: The Kremlin view on Putin-Trump talks"
    assert message["From"] == "The Bell <weekly@thebell.example>"
    assert message["To"] == "undisclosed-recipients:;"
    assert re.fullmatch(r"<[^@>]+@thebell\.example>", message["Message-ID"])
    assert message["Date"].datetime.year >= 2025
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert plain.get_content_charset() == html.get_content_charset() == "utf-8"
    assert plain.get_content() == issue_render_text(issue=sample_issue)
    assert f"Russia{RSQUO}s independent media scene" in html.get_content()
    assert parse_html(html.get_content()).root.find_all("h2")[0].text.startswith("Putin-Trump")


def test_issue_render_message_is_addressed_to_the_given_recipient(sample_issue):
    message = issue_render_message(issue=sample_issue, to="reader@example.org")
    sent = message.send()

    assert sent == 1
    (outgoing,) = mail.outbox
    assert outgoing.to == ["reader@example.org"]
    assert outgoing.message()["To"] == "reader@example.org"
    assert outgoing.alternatives[0].mimetype == "text/html"


def test_issue_render_message_without_sender_comes_from_the_default_address(db):
    issue = IssueFactory(newsletter=NewsletterFactory(slug="plain", name="Plain", sender_email=""))

    message = issue_render_message(issue=issue)

    assert message.from_email == settings.DEFAULT_FROM_EMAIL


def test_issue_render_eml_encodes_a_non_ascii_sender_and_subject(db):
    newsletter = NewsletterFactory(
        slug="kolokol", name="Колокол", kicker="КОЛОКОЛ", sender_name="Редакция «Колокола»"
    )
    issue = IssueFactory(newsletter=newsletter, title="Неделя — итоги")

    raw = issue_render_eml(issue=issue)
    message = email.message_from_bytes(raw, policy=email.policy.default)

    # Django's compat32 generator folds before a long encoded word; clients drop the space.
    assert message["Subject"].lstrip() == "КОЛОКОЛ: Неделя — итоги"
    assert message["From"].addresses[0].display_name == "Редакция «Колокола»"
    assert message["From"].addresses[0].addr_spec == "weekly@thebell.example"
    assert raw.split(b"\n\n", 1)[0].isascii()


def test_issue_render_message_lets_dispatch_add_headers_to_one_rendering(sample_issue):
    rendered = issue_render(issue=sample_issue)

    first = rendered.message(to="a@example.org", headers={"List-Id": "<weekly.thebell.example>"})
    second = rendered.message(to=["b@example.org"])

    assert first.message()["List-Id"] == "<weekly.thebell.example>"
    assert first.body == second.body == rendered.text
    assert first.extra_headers["Message-ID"] != second.extra_headers["Message-ID"]


# The render_issue command ---------------------------------------------------------------------


def render_command(*args):
    stdout, stderr = StringIO(), StringIO()
    call_command("render_issue", *args, stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


def test_render_issue_command_prints_text_by_default(sample_issue):
    stdout, _ = render_command(str(sample_issue.pk))

    assert stdout == issue_render_text(issue=sample_issue)


def test_render_issue_command_prints_html(sample_issue):
    stdout, _ = render_command(str(sample_issue.pk), "--format", "html")

    assert stdout.startswith("<!DOCTYPE html>")
    assert "Fake news scandals hit Russian independent media</h2>" in stdout


def test_render_issue_command_prints_an_eml_message(sample_issue):
    stdout, _ = render_command(str(sample_issue.pk), "--format=eml")

    message = email.message_from_bytes(stdout.encode(), policy=email.policy.default)
    assert message["Subject"] == sample_issue.subject
    assert message.get_body(preferencelist=("plain",)).get_content() == issue_render_text(
        issue=sample_issue
    )


def test_render_issue_command_writes_utf8_to_an_output_file(sample_issue, tmp_path):
    target = tmp_path / "issue.txt"

    stdout, stderr = render_command(str(sample_issue.pk), "--output", str(target))

    assert stdout == ""
    assert str(target) in stderr
    assert target.read_bytes() == issue_render_text(issue=sample_issue).encode("utf-8")


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["999999"], "No issue with id '999999'."),
        (["abc"], "No issue with id 'abc'."),
        (["{pk}", "--format", "pdf"], "Unknown format 'pdf': use text, html or eml."),
        (["{pk}", "--output", "/nonexistent/dir/issue.txt"], "Cannot write /nonexistent/dir/"),
    ],
)
def test_render_issue_command_fails_with_a_one_line_error(sample_issue, args, error):
    args = [arg.format(pk=sample_issue.pk) for arg in args]

    with pytest.raises(CommandError) as raised:
        render_command(*args)

    assert str(raised.value).startswith(error)
    assert "\n" not in str(raised.value)
