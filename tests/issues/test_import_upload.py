"""Importing an issue from the admin: upload, preview, confirm; .txt, .md and Word (.docx).

The Word documents are made here with python-docx, as Word would save them, and go through
mammoth and the HTML reader exactly as an upload does.
"""

# Typographic apostrophes and quotes are part of what is checked.
# ruff: noqa: RUF001

import io
import zipfile

import docx
import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from docx.enum.text import WD_BREAK
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml.shared import OxmlElement, qn
from reversion.models import Version

from issues.admin.importing import SESSION_KEY
from issues.importing import IssueImportError, issue_import, parse_issue_text
from issues.models import Issue, Newsletter, Story
from tests.factories import TEST_PASSWORD, IssueFactory, NewsletterFactory

pytestmark = pytest.mark.django_db

UPLOAD_URL = "admin:issues_issue_import"
PREVIEW_URL = "admin:issues_issue_import_preview"
SAMPLE_NAME = "bell-weekly-kremlin-view.txt"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def login(client, user):
    assert client.login(username=user.username, password=TEST_PASSWORD)
    return client


def upload(client, name, content, content_type="text/plain", **options):
    """Post a file to the Import page, as the browser's form does."""
    data = {"file": SimpleUploadedFile(name, content, content_type=content_type)}
    data.update({key: str(value) for key, value in options.items()})
    return client.post(reverse(UPLOAD_URL), data)


def confirm(client):
    token = client.session[SESSION_KEY]["token"]
    return client.post(reverse(PREVIEW_URL), {"token": token})


def blocks_of(story):
    return [(block.kind, block.text) for block in story.blocks.order_by("position")]


def page_messages(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


# Word documents, built as Word saves them -----------------------------------------------------


def add_hyperlink(paragraph, text, url, *, bold=False):
    """A link, the way Word stores one: a relationship to the URL and a w:hyperlink around a run
    (python-docx has no API for it)."""
    relationship = paragraph.part.relate_to(url, RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), relationship)
    run = OxmlElement("w:r")
    if bold:
        properties = OxmlElement("w:rPr")
        properties.append(OxmlElement("w:b"))
        run.append(properties)
    text_element = OxmlElement("w:t")
    text_element.text = text
    text_element.set(qn("xml:space"), "preserve")
    run.append(text_element)
    link.append(run)
    paragraph._p.append(link)


def add_runs(paragraph, *runs):
    """Runs of ("text", "b"/"i"/"bi"/"") after each other in one paragraph."""
    for text, style in runs:
        run = paragraph.add_run(text)
        run.bold = "b" in style or None
        run.italic = "i" in style or None
    return paragraph


def docx_bytes(document) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def word_issue() -> bytes:
    """A two-story issue in Word, with every kind of block, bold, italic, links, empty
    paragraphs and characters Markdown would misread."""
    document = docx.Document()
    document.add_heading("THE BELL WEEKLY: Sanctions in Word", level=1)
    document.add_paragraph("Hello! This week: sanctions, *really*.")
    document.add_paragraph("")  # Word users leave empty paragraphs between everything
    document.add_heading("Sanctions tighten", level=2)
    paragraph = add_runs(
        document.add_paragraph(),
        ("The EU agreed its ", ""),
        ("16th package ", "b"),  # the space inside the bold run, as Word often has it
        ("on Monday, ", ""),
        ("after weeks", "i"),
        (" of talks. See ", ""),
    )
    add_hyperlink(paragraph, "the full text", "https://thebell.io/sanctions?lang=en")
    add_runs(paragraph, (".", ""))
    document.add_paragraph("")
    document.add_heading("What’s in it", level=3)
    document.add_paragraph("A ban on LNG transshipment", style="List Bullet")
    add_runs(
        document.add_paragraph(style="List Bullet"),
        ("Shadow fleet", "bi"),
        (" tankers: 74 more", ""),
    )
    broken = document.add_paragraph("One line", style="List Bullet")
    broken.add_run().add_break(WD_BREAK.LINE)
    broken.add_run("and a second")
    document.add_paragraph("Prices [up] 2 * 3 = 6 _not_ emphasis.")
    add_runs(
        document.add_paragraph(),
        ("Why the world should care:", "b"),
        (" Europe still buys Russian gas.", ""),
    )
    document.add_heading("A second story", level=2)
    add_hyperlink(document.add_paragraph("Write to "), "tips@thebell.io", "mailto:tips@thebell.io")
    document.add_heading("Why the world should care", level=3)
    document.add_paragraph("It matters.")
    return docx_bytes(document)


WORD_FIRST_STORY = [
    (
        "paragraph",
        "The EU agreed its **16th package** on Monday, *after weeks* of talks. See "
        "[the full text](https://thebell.io/sanctions?lang=en).",
    ),
    ("heading", "What’s in it"),
    ("bullet", "A ban on LNG transshipment"),
    ("bullet", "***Shadow fleet*** tankers: 74 more"),
    ("bullet", "One line and a second"),
    ("paragraph", "Prices \\[up\\] 2 \\* 3 = 6 \\_not\\_ emphasis."),
]


# Who may import -------------------------------------------------------------------------------


def test_issue_list_offers_import_to_editors_only(client, editor, journalist):
    changelist = reverse("admin:issues_issue_changelist")
    assert "Import an issue" in login(client, editor).get(changelist).text
    assert "Import an issue" not in login(client, journalist).get(changelist).text


def test_import_pages_refuse_a_journalist(client, journalist, sample_text):
    login(client, journalist)
    assert client.get(reverse(UPLOAD_URL)).status_code == 403
    response = upload(client, SAMPLE_NAME, sample_text.encode())
    assert response.status_code == 403
    assert client.post(reverse(PREVIEW_URL), {"token": "x"}).status_code == 403
    assert Issue.objects.count() == 0


def test_issue_import_refuses_an_acting_user_who_may_not_add_issues(journalist, sample_text):
    with pytest.raises(IssueImportError, match="you may not import issues"):
        issue_import(text=sample_text, authors=[journalist], acting_user=journalist)
    assert Issue.objects.count() == 0


# Upload, preview, confirm ---------------------------------------------------------------------


def test_upload_txt_shows_the_preview_and_creates_nothing(client, editor, sample_text):
    login(client, editor)
    response = upload(client, SAMPLE_NAME, sample_text.encode())
    assert response.status_code == 302
    assert response.url == reverse(PREVIEW_URL)

    preview = client.get(response.url)
    page = preview.text
    assert preview.status_code == 200
    assert "The Kremlin view on Putin-Trump talks" in page
    assert "Putin-Trump talks: What to expect" in page
    assert "Fake news scandals hit Russian independent media" in page
    assert "Sub-heading" in page and "Bullet point" in page and "Takeaway" in page
    assert "importing creates the newsletter “The Bell Weekly”" in page
    assert "Read as plain text" in page
    plan = preview.context["plan"]
    assert plan.number == 1
    assert plan.authors == [editor]
    parsed = parse_issue_text(sample_text)
    assert [len(story["blocks"]) for story in preview.context["stories"]] == [
        len(story.blocks) for story in parsed.stories
    ]
    assert Issue.objects.count() == Newsletter.objects.count() == 0


def test_confirm_creates_the_issue_the_command_makes_with_the_uploader_as_author(
    client, editor, sample_path, sample_text
):
    newsletter = NewsletterFactory(kicker="THE BELL WEEKLY")
    login(client, editor)
    upload(client, SAMPLE_NAME, sample_text.encode())
    response = confirm(client)

    issue = Issue.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("admin:issues_issue_change", args=[issue.pk])
    assert (issue.newsletter, issue.number, issue.status) == (newsletter, 1, "draft")
    assert [list(story.authors.all()) for story in issue.stories.all()] == [[editor], [editor]]
    assert any("you are the author of each" in text for text in page_messages(response))
    assert SESSION_KEY not in client.session

    commanded = issue_import(path=sample_path)
    for uploaded, made in zip(
        issue.stories.order_by("position"), commanded.stories.order_by("position"), strict=True
    ):
        assert (uploaded.headline, uploaded.takeaway) == (made.headline, made.takeaway)
        assert blocks_of(uploaded) == blocks_of(made)
    version = Version.objects.get_for_object(issue).get()
    assert version.revision.comment == f"Imported from {SAMPLE_NAME}"
    assert version.revision.user == editor


def test_upload_markdown_with_newsletter_and_number_options(client, editor):
    other = NewsletterFactory(name="Other", slug="other", kicker="OTHER")
    markdown = (
        "# THE BELL WEEKLY: Markdown\n\n## A story\n\nSome *text* and [a link](https://x.io).\n"
    )
    login(client, editor)
    upload(client, "issue.md", markdown.encode(), newsletter=other.pk, number=7)
    confirm(client)
    issue = Issue.objects.get()
    assert (issue.newsletter, issue.number) == (other, 7)
    assert blocks_of(issue.stories.get()) == [
        ("paragraph", "Some *text* and [a link](https://x.io).")
    ]


def test_confirm_imports_the_text_kept_on_the_server_not_what_is_posted(
    client, editor, sample_text
):
    login(client, editor)
    upload(client, SAMPLE_NAME, sample_text.encode())
    token = client.session[SESSION_KEY]["token"]
    forged = "THE BELL WEEKLY: Forged\nA story\nText.\nWhy the world should care: x\n"
    client.post(reverse(PREVIEW_URL), {"token": token, "text": forged, "number": "99"})
    assert Issue.objects.get().title == "The Kremlin view on Putin-Trump talks"
    assert Issue.objects.get().number == 1


def test_confirm_with_a_stale_token_imports_nothing(client, editor, sample_text):
    login(client, editor)
    upload(client, SAMPLE_NAME, sample_text.encode())
    response = client.post(reverse(PREVIEW_URL), {"token": "from-an-older-preview"})
    assert response.status_code == 302
    assert response.url == reverse(PREVIEW_URL)
    assert Issue.objects.count() == 0


def test_confirm_twice_imports_once(client, editor, sample_text):
    login(client, editor)
    upload(client, SAMPLE_NAME, sample_text.encode())
    token = client.session[SESSION_KEY]["token"]
    client.post(reverse(PREVIEW_URL), {"token": token})
    again = client.post(reverse(PREVIEW_URL), {"token": token})
    assert again.url == reverse(UPLOAD_URL)
    assert Issue.objects.count() == 1


def test_number_taken_between_preview_and_confirm_is_refused_on_the_page(
    client, editor, sample_text
):
    newsletter = NewsletterFactory(kicker="THE BELL WEEKLY")
    login(client, editor)
    upload(client, SAMPLE_NAME, sample_text.encode(), number=5)
    IssueFactory(newsletter=newsletter, number=5, title="Taken meanwhile")
    response = confirm(client)
    assert response.status_code == 200
    assert "already has an issue number 5, “Taken meanwhile”" in response.text
    assert Issue.objects.count() == 1
    assert Story.objects.count() == 0


# Refused uploads ------------------------------------------------------------------------------


def refused(client, response, message):
    """The upload page again, with ``message``, and nothing created or kept."""
    assert response.status_code == 200
    assert message in response.text
    assert SESSION_KEY not in client.session
    assert Issue.objects.count() == Story.objects.count() == 0


def test_upload_refuses_a_pdf(client, editor):
    login(client, editor)
    response = upload(client, "issue.pdf", b"%PDF-1.7\n...", content_type="application/pdf")
    refused(client, response, "issue.pdf: this is not an issue file; upload a .txt, .md or Word")


def test_upload_refuses_a_file_over_5_mb(client, editor):
    login(client, editor)
    response = upload(client, "huge.txt", b"x" * (5 * 1024 * 1024 + 1))
    refused(client, response, "larger than the 5.0\xa0MB an upload accepts")


def test_upload_refuses_a_broken_docx(client, editor):
    login(client, editor)
    response = upload(client, "issue.docx", b"PK\x03\x04 not really a zip", DOCX_TYPE)
    refused(client, response, "issue.docx: this is not a Word document (.docx)")


def test_upload_refuses_a_zip_that_is_not_a_word_document(client, editor):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("hello.txt", "hello")
    login(client, editor)
    response = upload(client, "issue.docx", archive.getvalue(), DOCX_TYPE)
    refused(client, response, "issue.docx: this is not a Word document that can be read")


def test_upload_refuses_text_that_is_not_utf8(client, editor):
    login(client, editor)
    text = "THE BELL WEEKLY: Title\nCafé\n".encode("cp1252")
    response = upload(client, "latin.txt", text)
    refused(client, response, "latin.txt, line 2, column 4: not valid UTF-8 (byte 0xE9)")


def test_upload_refuses_a_malformed_file_with_its_line(client, editor):
    login(client, editor)
    response = upload(client, "bad.txt", b"THE BELL WEEKLY: Title\n- a bullet first\n")
    refused(client, response, "bad.txt, line 2: a bullet point before any story headline")


def test_upload_refuses_a_number_already_taken(client, editor, sample_text):
    IssueFactory(newsletter=NewsletterFactory(kicker="THE BELL WEEKLY"), number=3, title="Three")
    login(client, editor)
    response = upload(client, SAMPLE_NAME, sample_text.encode(), number=3)
    assert "already has an issue number 3, “Three”" in response.text
    assert SESSION_KEY not in client.session
    assert Issue.objects.count() == 1 and Story.objects.count() == 0


# Word -----------------------------------------------------------------------------------------


def test_upload_docx_gives_the_expected_blocks_and_nothing_else(client, editor):
    login(client, editor)
    response = upload(client, "sanctions.docx", word_issue(), DOCX_TYPE)
    assert response.status_code == 302
    preview = client.get(response.url)
    assert "Sanctions tighten" in preview.text and "Word document" in preview.text
    confirm(client)

    issue = Issue.objects.get()
    assert (issue.newsletter.kicker, issue.title) == ("THE BELL WEEKLY", "Sanctions in Word")
    assert issue.intro == "Hello! This week: sanctions, \\*really\\*."
    first, second = issue.stories.order_by("position")
    assert first.headline == "Sanctions tighten"
    assert blocks_of(first) == WORD_FIRST_STORY
    assert first.takeaway == "Europe still buys Russian gas."
    assert second.headline == "A second story"
    assert blocks_of(second) == [
        ("paragraph", "Write to [tips@thebell.io](mailto:tips@thebell.io)")
    ]
    assert second.takeaway == "It matters."
    assert [list(story.authors.all()) for story in (first, second)] == [[editor], [editor]]
    assert Version.objects.get_for_object(issue).get().revision.comment == (
        "Imported from sanctions.docx"
    )


def test_upload_docx_title_style_is_the_title_and_numbered_lists_are_refused(client, editor):
    document = docx.Document()
    document.add_paragraph("THE BELL WEEKLY: Titled", style="Title")
    document.add_heading("A story", level=2)
    document.add_paragraph("First", style="List Number")
    login(client, editor)
    response = upload(client, "numbered.docx", docx_bytes(document), DOCX_TYPE)
    refused(client, response, "numbered.docx, line 3: numbered lists are not supported")


def test_upload_docx_without_a_heading_1_title_is_refused(client, editor):
    document = docx.Document()
    document.add_paragraph("THE BELL WEEKLY: Not a heading")
    document.add_heading("A story", level=2)
    document.add_paragraph("Text.")
    login(client, editor)
    response = upload(client, "plain.docx", docx_bytes(document), DOCX_TYPE)
    refused(client, response, "must start with its title as a top-level heading (Heading 1")


# The HTML reader, as Ghost or a paste would give it -------------------------------------------


def html_blocks(html):
    document = parse_issue_text(f"<h1>THE BELL WEEKLY: Title</h1>{html}", markup="html")
    return [
        [(block.kind, block.text) for block in story.blocks] + [("takeaway", story.takeaway)]
        for story in document.stories
    ]


def test_parse_html_reads_google_docs_formatting_and_drops_empty_paragraphs():
    html = (
        '<b style="font-weight:normal;" id="docs-internal-guid-1234">'
        "<h2><span>A story</span></h2><p><br></p>"
        '<p><span style="font-weight:700">Bold</span><span> and </span>'
        '<span style="font-style:italic">italic</span><span> text</span></p><p></p>'
        '<ul><li><p><span style="font-weight:700;font-style:italic">Both</span></p></li></ul>'
        "<h3>Why the world should care</h3><p>Because.</p></b>"
    )
    assert html_blocks(html) == [
        [
            ("paragraph", "**Bold** and *italic* text"),
            ("bullet", "***Both***"),
            ("takeaway", "Because."),
        ]
    ]


def test_parse_html_keeps_entities_as_characters_and_drops_links_within_the_page():
    html = (
        "<h2>S</h2><p>AT&amp;T &lt;b&gt; &copy; <a href='#_Toc1'>contents</a> "
        "<a name='bookmark'>here</a><!-- a comment --><script>alert(1)</script></p>"
        "<p>Why the world should care: <em>it</em> matters</p>"
    )
    assert html_blocks(html) == [
        [("paragraph", "AT&T \\<b> © contents here"), ("takeaway", "*it* matters")]
    ]


@pytest.mark.parametrize(
    ("html", "message"),
    [
        ("<p>a <img src='x.png'></p>", "images are not supported"),
        ("<table><tr><td>x</td></tr></table>", "tables are not supported"),
        ("<ul><li>a<ul><li>b</li></ul></li></ul>", "nested lists are not supported"),
        ("<p><a href='javascript:alert(1)'>x</a></p>", "only http/https/mailto links"),
        ("<p><a href='/admin/'>x</a></p>", "only http/https/mailto links"),
        ("<p><strong>Note.</strong>Text</p>", "bold or italic that Markdown cannot hold"),
        ("<h1>Another title</h1>", "a second title"),
    ],
)
def test_parse_html_refuses_what_the_stored_format_cannot_hold(html, message):
    with pytest.raises(IssueImportError, match=message):
        html_blocks(f"<h2>S</h2><p>Text.</p>{html}")


def test_upload_docx_preview_lists_what_the_conversion_left_out(client, editor):
    document = docx.Document()
    document.add_heading("THE BELL WEEKLY: Quoted", level=1)
    document.add_heading("A story", level=2)
    document.add_paragraph("A quotation in Word's Quote style.", style="Quote")
    login(client, editor)
    preview = client.get(upload(client, "quoted.docx", docx_bytes(document), DOCX_TYPE).url)
    assert "From the Word document: Unrecognised paragraph style: Quote" in preview.text
    assert preview.context["stories"][0]["blocks"][0]["kind"] == "paragraph"
