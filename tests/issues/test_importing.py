"""The issue importer: the sample issue, both formats, the plain-text heuristics, bad input."""

# The sample's typographic apostrophes and quotes are the point of several assertions here.
# ruff: noqa: RUF001

import html
import io
import textwrap
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from markdown_it import MarkdownIt
from reversion.models import Version

from issues.access import stories_for_user
from issues.importing import (
    IssueImportError,
    detect_markup,
    issue_import,
    markdown_escape,
    parse_issue_text,
)
from issues.models import Block, Issue, Newsletter, Story
from issues.rendering import inline_html
from tests.factories import IssueFactory, NewsletterFactory, UserFactory

FIRST_HEADLINE = "Putin-Trump talks: What to expect"
SECOND_HEADLINE = "Fake news scandals hit Russian independent media"
SUBHEADINGS = ["Trump’s signals", "The Kremlin reaction"]
LABEL = "Why the world should care:"


def sample_lines(sample_text):
    return sample_text.split("\n")


def blocks_of(story):
    return [(block.kind, block.text) for block in story.blocks.order_by("position")]


def import_file(path, *args):
    """Run the command as a script would; return (stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    call_command("import_issue", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def sample_as_markdown(sample_text):
    """The sample rewritten in Markdown, paragraphs hard-wrapped as Markdown editors do."""
    lines = sample_lines(sample_text)
    out, marker = [f"# {lines[0]}", ""], "-"
    for line in lines[1:]:
        if line in {FIRST_HEADLINE, SECOND_HEADLINE}:
            out += ["", f"## {line}", ""]
            # Both bullet markers: “-” in the first story, “*” in the second.
            marker = "*" if line == SECOND_HEADLINE else "-"
        elif line in SUBHEADINGS:
            out += ["", f"### {line}", ""]
        elif line.startswith("- "):
            out += [f"{marker} {line[2:]}"]
        else:
            out += ["", textwrap.fill(line, width=72, break_on_hyphens=False), ""]
    return "\n".join(out) + "\n"


@pytest.fixture
def sample_issue(db, sample_path):
    return issue_import(path=sample_path)


# The sample, end to end ------------------------------------------------------------------------


def test_issue_import_sample_becomes_one_issue_with_two_stories(sample_issue):
    assert Issue.objects.count() == 1
    stories = list(sample_issue.stories.order_by("position"))
    assert [(s.position, s.headline) for s in stories] == [
        (1, FIRST_HEADLINE),
        (2, SECOND_HEADLINE),
    ]


def test_issue_import_sample_fills_the_issue_fields(sample_issue, sample_text):
    newsletter = sample_issue.newsletter
    assert (newsletter.name, newsletter.slug, newsletter.kicker) == (
        "The Bell Weekly",
        "the-bell-weekly",
        "THE BELL WEEKLY",
    )
    assert sample_issue.number == 1
    assert sample_issue.title == "The Kremlin view on Putin-Trump talks"
    assert sample_issue.slug == "the-kremlin-view-on-putin-trump-talks"
    assert sample_issue.intro == sample_lines(sample_text)[1]
    assert sample_issue.intro.startswith("Hello! This week we cover")
    assert sample_issue.subject == "THE BELL WEEKLY: The Kremlin view on Putin-Trump talks"


def test_issue_import_sample_first_story_opens_in_order(sample_issue, sample_text):
    lines = sample_lines(sample_text)
    first = sample_issue.stories.get(position=1)
    assert blocks_of(first)[:6] == [
        (
            "paragraph",
            "Following Donald Trump’s inauguration as U.S. President, the prospect of Washington "
            "brokering a peace deal between Russia and Ukraine has shot up the global agenda. "
            "A source with contacts inside the Kremlin told The Bell that a deal is possible — "
            "but with many caveats.",
        ),
        ("heading", "Trump’s signals"),
        (
            "paragraph",
            "In his election campaign, Trump promised to stop the war in 24 hours. He missed that "
            "deadline, but has made public overtures to Vladimir Putin in which he urged a quick "
            "resolution to the conflict, while threatening sanctions if Moscow does not comply. "
            "Trump has also been keen to talk up his good relationship with Putin and repeatedly "
            "said that he wants to meet as soon as possible.",
        ),
        ("paragraph", lines[6]),
        ("paragraph", lines[7]),
        ("heading", "The Kremlin reaction"),
    ]
    assert lines[6].startswith("The new US president has so far issued")
    assert lines[7].startswith("Second, following a phone call")
    assert [b.position for b in first.blocks.order_by("position")] == list(range(1, 15))


def test_issue_import_sample_subheadings_only_in_first_story(sample_issue):
    headings = Block.objects.filter(kind=Block.Kind.HEADING).order_by("story__position", "position")
    assert [(b.story.position, b.position, b.text) for b in headings] == [
        (1, 2, "Trump’s signals"),
        (1, 6, "The Kremlin reaction"),
    ]


def test_issue_import_sample_bullets_sit_between_the_right_paragraphs(sample_issue):
    first, second = sample_issue.stories.order_by("position")
    kinds_first = [kind for kind, _ in blocks_of(first)]
    kinds_second = [kind for kind, _ in blocks_of(second)]
    assert kinds_first[8:] == ["paragraph", "bullet", "bullet", "bullet", "bullet", "paragraph"]
    assert blocks_of(first)[8][1].endswith("how an acceptable solution could be found:")
    assert blocks_of(first)[9][1].startswith("A ceasefire could be established")
    assert blocks_of(first)[13][1].startswith("In general, according to The Bell’s source")
    assert kinds_second == ["paragraph", "bullet", "bullet", "bullet", "bullet"]
    assert blocks_of(second)[4][1].startswith("It’s still unclear why Nesoyeva")


def test_issue_import_sample_takeaways_are_byte_exact(sample_issue, sample_text):
    lines = sample_lines(sample_text)
    expected = [lines[index + 1] for index, line in enumerate(lines) if line == LABEL]
    takeaways = [s.takeaway for s in sample_issue.stories.order_by("position")]
    assert [t.encode("utf-8") for t in takeaways] == [e.encode("utf-8") for e in expected]
    assert takeaways[1].startswith("The Nesoyeva saga clearly damages")
    assert "“collective west.”" in takeaways[0]


def test_issue_import_sample_round_trips_to_the_same_text(sample_issue, sample_text):
    """Writing the stored issue back in the plain-text format gives the original file."""
    lines = [f"{sample_issue.newsletter.kicker}: {sample_issue.title}", sample_issue.intro]
    for story in sample_issue.stories.order_by("position"):
        lines.append(story.headline)
        for kind, text in blocks_of(story):
            lines.append(f"- {text}" if kind == "bullet" else text)
        lines += [LABEL, story.takeaway]
    assert "\n".join(lines).encode("utf-8") == sample_text.rstrip("\n").encode("utf-8")


def test_issue_import_records_the_import_as_first_version(sample_issue):
    first = sample_issue.stories.get(position=1)
    versions = Version.objects.get_for_object(first)
    assert versions.count() == 1
    assert versions[0].revision.comment == "Imported from bell-weekly-kremlin-view.txt"
    # The story's version follows its blocks, so reverting brings the whole text back.
    revision_blocks = versions[0].revision.version_set.filter(content_type__model="block")
    assert revision_blocks.count() == Block.objects.count() == 19
    assert Version.objects.get_for_object(sample_issue).count() == 1


# Options and the command -----------------------------------------------------------------------


def test_import_issue_prints_only_the_new_id(db, sample_path):
    out, err = import_file(sample_path)
    issue = Issue.objects.get()
    assert out == f"{issue.pk}\n"
    assert "2 stories" in err


def test_import_issue_twice_takes_the_next_number_and_a_new_slug(db, sample_path):
    import_file(sample_path)
    import_file(sample_path)
    issues = Issue.objects.order_by("number")
    assert [i.number for i in issues] == [1, 2]
    assert [i.slug for i in issues] == [
        "the-kremlin-view-on-putin-trump-talks",
        "the-kremlin-view-on-putin-trump-talks-2",
    ]
    assert Newsletter.objects.count() == 1


def test_import_issue_uses_the_newsletter_with_the_same_kicker(db, sample_path):
    newsletter = NewsletterFactory(name="Bell", slug="bell", kicker="The Bell Weekly")
    IssueFactory(newsletter=newsletter, number=41)
    import_file(sample_path)
    issue = Issue.objects.get(number=42)
    assert issue.newsletter == newsletter
    assert Newsletter.objects.count() == 1


def test_import_issue_newsletter_option_picks_the_newsletter(db, sample_path):
    other = NewsletterFactory(name="Other", slug="other", kicker="OTHER")
    import_file(sample_path, "--newsletter", "other", "--number", "7")
    issue = Issue.objects.get()
    assert (issue.newsletter, issue.number) == (other, 7)


def test_import_issue_unknown_newsletter_lists_existing_slugs(db, sample_path):
    NewsletterFactory()
    with pytest.raises(CommandError) as excinfo:
        import_file(sample_path, "--newsletter", "nope")
    assert "no newsletter has the slug “nope”; existing slugs: the-bell-weekly" in str(
        excinfo.value
    )
    assert Issue.objects.count() == 0


def test_import_issue_duplicate_number_is_refused(db, sample_path):
    import_file(sample_path)
    with pytest.raises(CommandError, match="already has an issue number 1"):
        import_file(sample_path, "--number", "1")
    assert Issue.objects.count() == 1
    assert Story.objects.count() == 2


@pytest.mark.parametrize("number", ["0", "-3", "2147483648", "99999999999"])
def test_import_issue_refuses_a_number_out_of_range(db, sample_path, number):
    with pytest.raises(CommandError) as excinfo:
        import_file(sample_path, "--number", number)
    error = str(excinfo.value)
    assert error.endswith(f"the issue number must be from 1 to 2147483647, not {number}")
    assert "\n" not in error
    assert Newsletter.objects.count() == Issue.objects.count() == 0


def test_import_issue_accepts_the_highest_number(db, sample_path):
    import_file(sample_path, "--number", "2147483647")
    assert Issue.objects.get().number == 2147483647


def test_import_issue_refuses_to_number_past_the_highest(db, sample_path):
    newsletter = NewsletterFactory(kicker="THE BELL WEEKLY")
    IssueFactory(newsletter=newsletter, number=2147483647)
    with pytest.raises(CommandError, match="already has the highest issue number, 2147483647"):
        import_file(sample_path)
    assert Issue.objects.count() == 1


def test_import_issue_author_option_credits_every_story(db, sample_path):
    reporter = UserFactory(username="reporter")
    import_file(sample_path, "--author", "reporter")
    assert [list(s.authors.all()) for s in Story.objects.all()] == [[reporter], [reporter]]


def test_import_issue_author_option_makes_the_stories_visible_to_that_journalist(
    sample_path, journalist
):
    out, err = import_file(sample_path, "--author", "journalist")
    assert "no author" not in err
    issue = Issue.objects.get(pk=int(out))
    visible = stories_for_user(user=journalist).filter(issue=issue)
    assert visible.count() == 2


def test_import_issue_without_author_warns_that_journalists_will_not_see_the_stories(
    db, sample_path
):
    out, err = import_file(sample_path)  # no CommandError: exit status 0
    issue = Issue.objects.get()
    assert out == f"{issue.pk}\n"
    assert "Warning: the imported stories have no author, so no journalist will see them" in err
    assert "--author USERNAME" in err
    assert not Story.objects.filter(authors__isnull=False).exists()


def test_import_issue_defaults_to_the_newsletters_default_author(db, sample_path):
    reporter = UserFactory(username="reporter")
    NewsletterFactory(kicker="THE BELL WEEKLY", default_author=reporter)
    _, err = import_file(sample_path)
    assert [list(s.authors.all()) for s in Story.objects.all()] == [[reporter], [reporter]]
    assert "no author" not in err


def test_import_issue_author_option_overrides_the_default_author(db, sample_path):
    NewsletterFactory(kicker="THE BELL WEEKLY", default_author=UserFactory(username="usual"))
    reporter = UserFactory(username="reporter")
    import_file(sample_path, "--author", "reporter")
    assert [list(s.authors.all()) for s in Story.objects.all()] == [[reporter], [reporter]]


def test_import_issue_unknown_author_is_refused(db, sample_path):
    with pytest.raises(CommandError, match="no user has the username “ghost”"):
        import_file(sample_path, "--author", "ghost")
    assert Issue.objects.count() == Newsletter.objects.count() == 0


def test_issue_import_uses_the_newsletters_takeaway_label(db, sample_text):
    newsletter = NewsletterFactory(takeaway_label="Why it matters")
    text = sample_text.replace(LABEL, "Why it matters:")
    issue = issue_import(text=text, filename="custom.txt")
    assert issue.newsletter == newsletter
    assert [bool(s.takeaway) for s in issue.stories.all()] == [True, True]


def test_issue_import_writes_nothing_when_a_write_fails(db, sample_path, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Block.objects, "bulk_create", fail)
    with pytest.raises(RuntimeError):
        issue_import(path=sample_path)
    assert Newsletter.objects.count() == Issue.objects.count() == Story.objects.count() == 0
    assert Version.objects.count() == 0


def test_import_issue_accepts_bom_and_crlf(db, sample_text, tmp_path):
    path = tmp_path / "windows.txt"
    path.write_bytes(b"\xef\xbb\xbf" + sample_text.replace("\n", "\r\n").encode("utf-8"))
    import_file(path)
    issue = Issue.objects.get()
    assert issue.newsletter.kicker == "THE BELL WEEKLY"
    assert issue.stories.count() == 2
    texts = [issue.intro, *Block.objects.values_list("text", flat=True)]
    assert not any("\r" in text or "\ufeff" in text for text in texts)


# Markdown ---------------------------------------------------------------------------------------


def test_import_issue_markdown_sample_has_the_same_structure(
    db, sample_path, sample_text, tmp_path
):
    path = tmp_path / "kremlin-view.md"
    path.write_text(sample_as_markdown(sample_text), encoding="utf-8")
    from_text = issue_import(path=sample_path)
    from_markdown = issue_import(path=path)

    def structure(issue):
        return (
            issue.title,
            issue.intro,
            [(s.headline, s.takeaway, blocks_of(s)) for s in issue.stories.order_by("position")],
        )

    assert structure(from_markdown) == structure(from_text)
    assert Block.objects.filter(story__issue=from_markdown, kind="bullet").count() == 8


def test_parse_issue_text_markdown_keeps_links_and_emphasis():
    text = (
        "# THE BELL WEEKLY: Links\n\n"
        "Hello! We discussed it [here](https://thebell.io/en/x).\n\n"
        "## A *story* with [a link](https://example.org)\n\n"
        "Paragraph with *emphasis*, **strong** text\nand a second source line.\n\n"
        "- a [linked](https://example.org/b) bullet\n"
        "  wrapped onto two lines\n\n"
        "### A **sub**-heading\n\n"
        "More text.\n\n"
        "**Why the world should care:** because *it* matters.\n"
    )
    issue = parse_issue_text(text)
    story = issue.stories[0]
    assert issue.markup == "markdown"
    assert issue.intro == "Hello! We discussed it [here](https://thebell.io/en/x)."
    assert story.headline == "A story with a link"
    assert [(b.kind, b.text) for b in story.blocks] == [
        ("paragraph", "Paragraph with *emphasis*, **strong** text and a second source line."),
        ("bullet", "a [linked](https://example.org/b) bullet wrapped onto two lines"),
        ("heading", "A **sub**-heading"),
        ("paragraph", "More text."),
    ]
    assert story.takeaway == "because *it* matters."


@pytest.mark.parametrize(
    "takeaway",
    [
        "Why the world should care: It *matters*.",
        "**Why the world should care:** It *matters*.",
        "**Why the world should care**: It *matters*.",
        "why the world should care:\nIt *matters*.",
        "Why the world should care:\n\nIt *matters*.",
        "### Why the world should care\n\nIt *matters*.",
        "Why the world\nshould care:\nIt *matters*.",
    ],
)
def test_parse_issue_text_markdown_takeaway_forms(takeaway):
    text = f"# THE BELL WEEKLY: T\n\nHello.\n\n## Story\n\nText.\n\n{takeaway}\n\n## Next\n\nX.\n"
    issue = parse_issue_text(text)
    assert [s.headline for s in issue.stories] == ["Story", "Next"]
    assert issue.stories[0].takeaway == "It *matters*."
    assert [b.text for b in issue.stories[0].blocks] == ["Text."]


@pytest.mark.parametrize(
    ("filename", "first_line", "expected"),
    [
        ("issue.md", "THE BELL WEEKLY: T", "markdown"),
        ("Issue.MARKDOWN", "THE BELL WEEKLY: T", "markdown"),
        ("issue.txt", "# THE BELL WEEKLY: T", "markdown"),
        ("", "  # THE BELL WEEKLY: T", "markdown"),
        ("issue.txt", "THE BELL WEEKLY: T", "text"),
        ("", "#THE BELL WEEKLY: T", "text"),
    ],
)
def test_detect_markup_by_extension_or_first_line(filename, first_line, expected):
    assert detect_markup(f"\n\n{first_line}\nHello.\n", filename=filename) == expected


def test_parse_issue_text_markdown_file_needs_a_heading_title():
    with pytest.raises(IssueImportError, match="“# KICKER: Title”"):
        parse_issue_text("THE BELL WEEKLY: T\n\nHello.\n\n## Story\n\nText.\n", filename="a.md")


def markdown_story_text(markdown):
    """The stored text of ``markdown`` as the one paragraph of a story."""
    issue = parse_issue_text(f"# THE BELL WEEKLY: T\n\nHello.\n\n## Story\n\n{markdown}\n")
    (block,) = issue.stories[0].blocks
    return block.text


@pytest.mark.parametrize(
    ("markdown", "stored"),
    [
        ("AT&amp;T &copy; 2025 &#8212; ok", "AT&T © 2025 — ok"),
        (
            "Ask <https://thebell.example/ask>.",
            "Ask [https://thebell.example/ask](https://thebell.example/ask).",
        ),
        (
            "Write to <tips@thebell.example>.",
            "Write to [tips@thebell.example](mailto:tips@thebell.example).",
        ),
        ("Run `rm *.txt` now.", "Run rm \\*.txt now."),
        (
            "_One_ and __two__ and *three* and **four**.",
            "_One_ and __two__ and *three* and **four**.",
        ),
        ("snake_case and a \\*literal\\* star.", "snake\\_case and a \\*literal\\* star."),
        ("&amp;copy; is how it is typed.", "\\&copy; is how it is typed."),
        ("Wow\\![a link](https://thebell.example).", "Wow\\![a link](https://thebell.example)."),
        (
            "See [Bell](https://en.wikipedia.org/wiki/Bell_(band)).",
            "See [Bell](https://en.wikipedia.org/wiki/Bell_\\(band\\)).",
        ),
        (
            '[Titled](https://thebell.example "A title") link.',
            "[Titled](https://thebell.example) link.",
        ),
        ("*Novaya Gazeta* - a paper - and 1. more", "*Novaya Gazeta* - a paper - and 1. more"),
        ("\\# Not a heading", "\\# Not a heading"),
        (
            "[See <https://a.example>](https://b.example)",
            "[See https://a.example](https://b.example)",
        ),
        ("Hard\\\nbreak, two spaces  \nbreak.", "Hard break, two spaces break."),
    ],
)
def test_parse_issue_text_markdown_stores_inline_text_as_the_renderer_reads_it(markdown, stored):
    assert markdown_story_text(markdown) == stored


def test_parse_issue_text_markdown_refuses_emphasis_it_cannot_keep():
    # A CommonMark tangle: rewritten, the * would pair up differently.
    with pytest.raises(IssueImportError, match=r"^line 7: emphasis that cannot be kept as written"):
        markdown_story_text("**Bell*-**")


@pytest.mark.parametrize(
    ("url", "is_link"),
    [
        ("https://thebell.example/a?b=1&c=2", True),
        ("HTTP://thebell.example", True),
        ("mailto:tips@thebell.example", True),
        ("javascript:alert(1)", False),
        ("JavaScript:alert(1)", False),
        ("data:text/html,x", False),
        ("ftp://thebell.example/f", False),
        ("/admin/", False),
        ("//thebell.example/a", False),
        ("thebell.example", False),
    ],
)
def test_parse_issue_text_markdown_keeps_exactly_the_links_the_renderer_makes(url, is_link):
    markdown = f"A [link]({url})."
    assert ("<a " in inline_html(markdown)) is is_link
    if is_link:
        assert inline_html(markdown_story_text(markdown)) == inline_html(markdown)
    else:
        with pytest.raises(IssueImportError, match="only http/https/mailto links are supported"):
            markdown_story_text(markdown)


def test_parse_issue_text_markdown_resolves_reference_links():
    text = (
        "# THE BELL WEEKLY: T\n\n"
        "Read [our site][bell] and [The Bell][].\n\n"
        "## Story\n\n"
        "- See [Bell], *[emphasised][bell]*.\n\n"
        "Why the world should care: [it][BELL] matters.\n\n"
        '[bell]: https://thebell.io/en "The Bell"\n'
        "[the bell]:\n  <https://thebell.io/ru>\n"
    )
    issue = parse_issue_text(text)
    story = issue.stories[0]
    assert issue.intro == (
        "Read [our site](https://thebell.io/en) and [The Bell](https://thebell.io/ru)."
    )
    assert [b.text for b in story.blocks] == [
        "See [Bell](https://thebell.io/en), *[emphasised](https://thebell.io/en)*."
    ]
    # The definitions are not content: the takeaway is the one paragraph before them.
    assert story.takeaway == "[it](https://thebell.io/en) matters."


# Plain-text heuristics (docs/importing.md) --------------------------------------------------------


def parse_plain(*lines):
    return parse_issue_text("\n".join(["THE BELL WEEKLY: Title", "Hello! Intro.", *lines]))


def test_parse_issue_text_question_is_a_headline_and_a_subheading():
    issue = parse_plain(
        "What does the Kremlin want?",
        "A paragraph.",
        "Is a deal close?",
        "Another paragraph.",
        f"{LABEL} It matters.",
        "Will the scandal last?",
        "Text.",
    )
    assert [s.headline for s in issue.stories] == [
        "What does the Kremlin want?",
        "Will the scandal last?",
    ]
    assert issue.stories[0].blocks[1].kind == "heading"
    assert issue.stories[0].blocks[1].text == "Is a deal close?"


def test_parse_issue_text_question_after_a_bare_label_is_the_takeaway():
    issue = parse_plain(
        "Headline", "Text.", LABEL, "Will Putin get what he wants?", "Next story", "X."
    )
    assert issue.stories[0].takeaway == "Will Putin get what he wants?"
    assert [s.headline for s in issue.stories] == ["Headline", "Next story"]


def test_parse_issue_text_sentences_and_long_lines_are_paragraphs():
    long_line = "A line with no final punctuation but far too long to be a heading " * 2
    issue = parse_plain(
        "Headline",
        "He said he was ready to “talk calmly.”",
        "The list follows:",
        "Short, but a sentence;",
        long_line.strip(),
        "Sub-heading",
    )
    kinds = [b.kind for b in issue.stories[0].blocks]
    assert kinds == ["paragraph", "paragraph", "paragraph", "paragraph", "heading"]


def test_parse_issue_text_plain_takeaway_on_the_label_line_and_several_paragraphs():
    issue = parse_plain(
        "Headline", "Text.", "", f"{LABEL} First part.", "", "Second part.", "Next headline", "X."
    )
    assert issue.stories[0].takeaway == "First part.\n\nSecond part."
    assert issue.stories[1].headline == "Next headline"


def test_parse_issue_text_skips_blank_and_separator_lines():
    issue = parse_plain("", "Headline", "", "Text.", "***", "---", "More text.")
    assert [b.text for b in issue.stories[0].blocks] == ["Text.", "More text."]


def test_parse_issue_text_keeps_lines_of_symbols_that_are_not_separators():
    issue = parse_plain(
        "Headline", "Text.", "★★★★☆", "🇺🇦", "* * *", "___", "= = =", "- - -", "More text."
    )
    assert [b.text for b in issue.stories[0].blocks] == ["Text.", "★★★★☆", "🇺🇦", "More text."]


def test_parse_issue_text_plain_escapes_what_markdown_would_misread():
    original = "Use *stars*, _under_scores, [brackets] and `ticks` <b> AT&T &amp; C:\\path"
    issue = parse_plain(
        "The [secret] plan_b", original + ".", "# not a heading.", "- 1. listed.", "Sub_heading"
    )
    story = issue.stories[0]
    texts = [b.text for b in story.blocks]
    rendered = [html.unescape(MarkdownIt("commonmark").render(t))[3:-5] for t in texts]
    assert rendered == [original + ".", "# not a heading.", "1. listed.", "Sub_heading"]
    assert texts[0].startswith("Use \\*stars\\*, \\_under\\_scores, \\[brackets\\]")
    # Headlines are plain text, not Markdown: stored exactly as written.
    assert story.headline == "The [secret] plan_b"


@pytest.mark.parametrize(
    "text",
    [
        "a *b* **c** _d_ [e](f) ![g](h) `i` <https://x.org> <b>j</b> ~~k~~",
        "AT&T &amp; &#169; &copy; \\ trailing backslash \\",
        "# heading",
        "###### deep",
        "> quote",
        "- dash",
        "+ plus",
        "* star",
        "1. one",
        "2024) year",
        "---",
        "===",
        "| a | b |",
        "Trump’s “taxes, duties and sanctions” — $2.9 billion",
    ],
)
def test_markdown_escape_renders_back_to_the_same_characters(text):
    escaped = markdown_escape(text)
    for preset in ("commonmark", "default"):
        markdown = MarkdownIt(preset, {"html": True})
        inline = markdown.renderInline(escaped)
        assert "<" not in inline, inline  # nothing became markup
        assert html.unescape(inline) == text
        assert markdown.render(escaped) == f"<p>{inline}</p>\n"


def test_markdown_escape_leaves_ordinary_prose_unchanged():
    prose = "Trump’s “taxes” — 3.5 million (in 2024), 50% of U.S. oil. What next? #1 hit"
    assert markdown_escape(prose) == prose


# Bad input --------------------------------------------------------------------------------------

GOOD_HEAD = "THE BELL WEEKLY: Title\nHello! Intro.\n"
GOOD_STORY = "Headline\nA paragraph.\n"


def write(tmp_path, name, content):
    path = tmp_path / name
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


BAD_INPUTS = [
    ("empty", "empty.txt", b"", "empty.txt: the file is empty"),
    ("whitespace", "blank.txt", b" \n\t\r\n  \n", "blank.txt: the file is empty"),
    ("nul bytes", "nul.txt", GOOD_HEAD.encode() + b"\x00\x01", "looks like a binary file"),
    ("control characters", "ctl.txt", bytes(range(1, 9)) * 40, "looks like a binary file"),
    (
        "stray control character",
        "esc.txt",
        GOOD_HEAD + GOOD_STORY + "Bad \x1b text.\n",
        "esc.txt, line 5, column 5: unexpected control character U+001B",
    ),
    (
        "invalid utf-8",
        "latin1.txt",
        (GOOD_HEAD + GOOD_STORY).encode() + "Café crème.\n".encode("latin-1"),
        "latin1.txt, line 5, column 4: not valid UTF-8 (byte 0xE9)",
    ),
    ("no story", "intro.txt", GOOD_HEAD + "More intro.\n", "no story found"),
    (
        "missing title",
        "notitle.txt",
        "Hello! Intro without a title.\n" + GOOD_STORY,
        "notitle.txt, line 1: the first line must be the title",
    ),
    (
        "missing markdown title",
        "notitle.md",
        "Hello! Intro.\n\n## Headline\n\nText.\n",
        "notitle.md, line 1: the first line must be the title, “# KICKER: Title”",
    ),
    (
        "bullet before story",
        "bullet.txt",
        GOOD_HEAD + "- early point\n" + GOOD_STORY,
        "bullet.txt, line 3: a bullet point before any story headline: “early point”",
    ),
    (
        "sub-heading before story",
        "sub.md",
        "# THE BELL WEEKLY: T\n\nHello.\n\n### Early\n\n## Headline\n\nText.\n",
        "sub.md, line 5: a sub-heading before any story headline: “Early”",
    ),
    (
        "takeaway before story",
        "early.txt",
        GOOD_HEAD + f"{LABEL} too soon.\n" + GOOD_STORY,
        f"early.txt, line 3: “{LABEL}” before any story headline",
    ),
    (
        "label without text at the end",
        "bare.txt",
        GOOD_HEAD + GOOD_STORY + f"{LABEL}\n\n",
        f"bare.txt, line 5: “{LABEL}” has no text after it",
    ),
    (
        "label followed by the next headline",
        "bare2.txt",
        GOOD_HEAD + GOOD_STORY + f"{LABEL}\nNext headline\nText.\n",
        f"bare2.txt, line 5: “{LABEL}” has no text after it",
    ),
    (
        "two takeaways",
        "two.txt",
        GOOD_HEAD + GOOD_STORY + f"{LABEL} One.\n{LABEL} Two.\n",
        "two.txt, line 6: a second “Why the world should care:”",
    ),
    (
        "bullet in takeaway",
        "tb.txt",
        GOOD_HEAD + GOOD_STORY + f"{LABEL} One.\n- point\n",
        "tb.txt, line 6: a bullet point in the takeaway",
    ),
    (
        "story with no text",
        "hollow.md",
        "# THE BELL WEEKLY: T\n\n## First\n\n## Second\n\nText.\n",
        "hollow.md, line 3: the story “First” has no paragraph or bullet point",
    ),
    (
        "empty headline",
        "nohead.md",
        "# THE BELL WEEKLY: T\n\nHello.\n\n##\n\nText.\n",
        "nohead.md, line 5: a story headline with no text",
    ),
    (
        "empty sub-heading",
        "nosub.md",
        "# THE BELL WEEKLY: T\n\n## Story\n\nText.\n\n###\n\nMore.\n",
        "nosub.md, line 7: a sub-heading with no text",
    ),
    (
        "empty bullet",
        "nobullet.md",
        "# THE BELL WEEKLY: T\n\n## Story\n\nText.\n\n-\n",
        "nobullet.md, line 7: a bullet point with no text",
    ),
    (
        "sub-heading in takeaway",
        "subtake.md",
        f"# THE BELL WEEKLY: T\n\n## Story\n\nText.\n\n{LABEL} It matters.\n\n### More\n",
        "subtake.md, line 9: a sub-heading in the takeaway of “Story”; start a new story instead",
    ),
    (
        "image",
        "image.md",
        "# THE BELL WEEKLY: T\n\n## Story\n\nText with a\n![chart](https://thebell.example/c.png)\n",
        "image.md, line 6: images are not supported in story text; link to it instead",
    ),
    (
        "image in a bullet point",
        "image2.md",
        "# THE BELL WEEKLY: T\n\n## Story\n\nText.\n\n- one\n- two ![x](https://x.example)\n",
        "image2.md, line 8: images are not supported in story text",
    ),
    (
        "image in a takeaway",
        "image3.md",
        f"# THE BELL WEEKLY: T\n\n## Story\n\nText.\n\n{LABEL}\nsee\n![x](https://x.example)\n",
        "image3.md, line 9: images are not supported in story text",
    ),
    (
        "raw HTML",
        "html.md",
        "# THE BELL WEEKLY: T\n\nHello <b>bold</b> intro.\n\n## Story\n\nText.\n",
        "html.md, line 3: raw HTML is not supported in story text: “<b>”",
    ),
    (
        "javascript link",
        "js.md",
        "# THE BELL WEEKLY: T\n\n## Story\n\n[click](javascript:alert(1))\n",
        "js.md, line 5: a link to “javascript:alert(1)”; only http/https/mailto links",
    ),
    (
        "relative link by reference",
        "rel.md",
        "# THE BELL WEEKLY: T\n\n## Story\n\n### See [admin]\n\nText.\n\n[admin]: /admin/\n",
        "rel.md, line 5: a link to “/admin/”; only http/https/mailto links are supported",
    ),
    (
        "nested list",
        "nested.md",
        "# THE BELL WEEKLY: T\n\n## Story\n\n- one\n  - inner\n",
        "nested.md, line 6: nested lists are not supported",
    ),
    (
        "numbered list",
        "ol.md",
        "# THE BELL WEEKLY: T\n\n## Story\n\n1. one\n2. two\n",
        "ol.md, line 5: numbered lists are not supported",
    ),
]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [case[1:] for case in BAD_INPUTS],
    ids=[case[0] for case in BAD_INPUTS],
)
def test_import_issue_refuses_bad_input(db, tmp_path, name, content, message):
    path = write(tmp_path, name, content)
    with pytest.raises(CommandError) as excinfo:
        import_file(path)
    error = str(excinfo.value)
    assert message in error
    assert "\n" not in error
    assert Newsletter.objects.count() == Issue.objects.count() == 0
    assert Story.objects.count() == Block.objects.count() == 0


def test_import_issue_refuses_a_missing_file_and_a_directory(db, tmp_path):
    with pytest.raises(CommandError, match=r"nothing\.txt: no such file"):
        import_file(tmp_path / "nothing.txt")
    with pytest.raises(CommandError, match="this is a directory, not an issue file"):
        import_file(tmp_path)
    assert Issue.objects.count() == 0


def test_import_issue_refuses_a_huge_file_without_reading_it(db, tmp_path, monkeypatch):
    path = tmp_path / "huge.txt"
    with path.open("wb") as file:
        file.truncate(20 * 1024 * 1024)  # sparse: 20 MB on paper, nothing on disk

    def no_reading(*args, **kwargs):
        raise AssertionError("the file was opened")

    monkeypatch.setattr(Path, "open", no_reading)
    with pytest.raises(CommandError) as excinfo:
        import_file(path)
    error = str(excinfo.value).replace("\N{NO-BREAK SPACE}", " ")
    assert "huge.txt: the file is 20.0 MB, larger than the 2.0 MB an import accepts" in error
    assert Issue.objects.count() == 0


def test_import_issue_size_limit_follows_the_setting(db, sample_path, settings):
    settings.BELLCMS_IMPORT_MAX_BYTES = 1024
    with pytest.raises(CommandError, match=r"larger than the 1\.0\sKB an import accepts"):
        import_file(sample_path)


def test_issue_import_error_carries_the_line(db):
    with pytest.raises(IssueImportError) as excinfo:
        issue_import(text=GOOD_HEAD + "- early\n" + GOOD_STORY, filename="x.txt")
    assert (excinfo.value.line, excinfo.value.filename) == (3, "x.txt")
