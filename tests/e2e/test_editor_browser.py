"""The story editor in a real Chromium: writing, reloading, pasting, and two people at once."""

import json
import re
import time

import pytest
import reversion
from playwright.sync_api import expect

from issues.models import Block, Story
from issues.rendering import inline_text, issue_render_html, issue_render_text
from tests.e2e.axe import serious_violations, violations_text
from tests.e2e.test_admin_browser import log_in
from tests.factories import BlockFactory, IssueFactory, StoryFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HEADLINE = "Moscow and Washington meet in Riyadh"
TYPED = [
    ("paragraph", "Moscow and Washington will meet in **Riyadh** on Tuesday."),
    ("paragraph", "The talks follow a [phone call](https://example.org/call) last week."),
    ("heading", "What Moscow wants"),
    ("bullet", "Sanctions relief"),
    ("bullet", "A say over *Ukraine*"),
    ("bullet", "No NATO troops"),
]
TAKEAWAY = "The war may end on Moscow's terms."


def open_editor(page, live_server, user, path="/admin/issues/story/add/"):
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, live_server, user)
    page.goto(f"{live_server.url}{path}")
    expect(document(page)).to_be_visible()
    return errors


def document(page):
    return page.locator("[data-bell-editor] .ProseMirror")


def editor_blocks(page):
    return [
        (block["kind"], block["text"]) for block in page.evaluate("window.bellStoryEditor.blocks()")
    ]


def stored_blocks(story):
    return list(story.blocks.order_by("position").values_list("kind", "text"))


def type_bold(page, text):
    page.keyboard.press("Control+b")
    page.keyboard.type(text)
    page.keyboard.press("Control+b")


def test_journalist_writes_a_story_reloads_and_loses_nothing(page, live_server, journalist):
    errors = open_editor(page, live_server, journalist)
    page.fill("#id_headline", HEADLINE)
    document(page).click()
    page.keyboard.type("Moscow and Washington will meet in ")
    type_bold(page, "Riyadh")
    page.keyboard.type(" on Tuesday.")
    page.keyboard.press("Enter")
    page.keyboard.type("The talks follow a phone call")
    expect(document(page)).to_contain_text("phone call")
    page.keyboard.press("Control+Shift+ArrowLeft")
    page.keyboard.press("Control+Shift+ArrowLeft")
    # The editor takes the page's selection on its next turn, as it would under a person.
    page.wait_for_function(
        """() => {
            const { state } = window.bellStoryEditor.editor;
            return state.doc.textBetween(state.selection.from, state.selection.to) === "phone call";
        }"""
    )
    page.keyboard.press("Control+k")
    page.get_by_label("Address").fill("example.org/call")
    page.keyboard.press("Enter")
    expect(document(page)).to_be_focused()  # the cursor is back in the text
    page.keyboard.press("End")
    page.keyboard.type(" last week.")
    expect(page.locator("[data-bell-editor-count]")).to_have_text("23 words · 1 min read")

    # The draft is kept as it is typed: a reload (or a crash) gives it back.
    expect(page.locator("[data-bell-editor-saved]")).to_contain_text("Draft kept at")
    page.reload()
    expect(page.locator("[data-bell-editor-notice]")).to_contain_text("unsaved changes")
    expect(page.locator("#id_headline")).to_have_value(HEADLINE)
    assert editor_blocks(page) == TYPED[:2]

    document(page).click()
    page.keyboard.press("Control+End")
    # The editor takes the page's cursor on its next turn, as it would under a person.
    page.wait_for_function(
        """() => {
            const { state } = window.bellStoryEditor.editor;
            return state.selection.empty && state.selection.to === state.doc.content.size - 1;
        }"""
    )
    page.keyboard.press("Enter")
    page.keyboard.type("## What Moscow wants")
    page.keyboard.press("Enter")
    page.keyboard.type("- Sanctions relief")
    page.keyboard.press("Enter")
    page.keyboard.type("A say over ")
    page.keyboard.press("Control+i")
    page.keyboard.type("Ukraine")
    page.keyboard.press("Control+i")
    page.keyboard.press("Enter")
    page.keyboard.type("No NATO troops")
    page.fill("#id_takeaway", TAKEAWAY)
    page.click("input[name=_continue]")

    expect(page.locator(".messagelist .success")).to_contain_text("was added successfully")
    story = Story.objects.get(headline=HEADLINE)
    assert stored_blocks(story) == TYPED
    assert list(story.authors.all()) == [journalist]
    # Saved: the draft is gone, the page opens the story as stored.
    expect(page.locator("[data-bell-editor-notice]")).to_be_hidden()
    assert story.drafts.count() == 0 and journalist.story_drafts.count() == 0
    assert errors == []

    # The saved blocks render word for word in the email.
    issue = IssueFactory()
    Story.objects.filter(pk=story.pk).update(issue=issue, position=1)
    text, html = issue_render_text(issue=issue), issue_render_html(issue=issue)
    for _kind, markdown in TYPED:
        assert inline_text(markdown) in text
    assert "<strong>Riyadh</strong>" in html
    assert 'href="https://example.org/call"' in html
    assert "<em>Ukraine</em>" in html


def test_the_same_story_through_the_form_without_javascript_gives_the_same_blocks(
    chromium, live_server, journalist
):
    context = chromium.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, live_server, journalist)
        page.goto(f"{live_server.url}/admin/issues/story/add/")
        # No script: no document editor, the table of blocks is the editor.
        expect(page.locator("[data-bell-editor]")).to_be_hidden()
        page.fill("#id_headline", HEADLINE)
        page.fill("#id_takeaway", TAKEAWAY)
        # One block per save: the table's empty row, as a person without JavaScript does it.
        for kind, text in TYPED:
            row = page.locator("#blocks-group tr.form-row:not(.empty-form)").last
            row.locator("select").select_option(kind)
            row.locator("textarea").fill(text)
            page.click("input[name=_continue]")
            expect(page.locator(".messagelist .success")).to_be_visible()
    finally:
        context.close()
    story = Story.objects.get(headline=HEADLINE)
    assert stored_blocks(story) == TYPED
    assert story.takeaway == TAKEAWAY


GOOGLE_DOCS = (
    '<meta charset="utf-8"><b style="font-weight:normal;" id="docs-internal-guid-5b1f-7fff">'
    '<h2 dir="ltr"><span style="font-size:16pt;font-weight:400;">What Moscow wants</span></h2>'
    '<p dir="ltr"><span style="font-weight:400;">Talks begin in </span>'
    '<span style="font-weight:700;">Riyadh</span><span style="font-weight:400;"> and </span>'
    '<span style="font-style:italic;font-weight:400;">nobody</span>'
    '<span style="font-weight:400;"> knows. See </span>'
    '<a href="https://www.google.com/url?q=https://example.org/report&amp;sa=D">'
    '<span style="color:#1155cc;text-decoration:underline;">the report</span></a>'
    "<span>.</span></p><br>"
    '<p dir="ltr"><span style="font-weight:400;"></span></p>'
    '<ul><li dir="ltr"><p dir="ltr"><span style="font-family:Arial;">Sanctions relief</span></p>'
    '</li><li dir="ltr"><p dir="ltr"><span>A say over Ukraine</span></p></li></ul><br>'
    '<p dir="ltr"><span style="font-weight:400;color:#ff0000">Closing.</span>'
    '<sup><a href="#cmnt1" id="cmnt_ref1">[a]</a></sup></p>'
    '<div><p><a href="#cmnt_ref1" id="cmnt1">[a]</a>Check this with the source</p></div></b>'
)
WORD = (
    '<html xmlns:o="urn:schemas-microsoft-com:office:office"><body lang=EN-GB>'
    "<!--StartFragment--><p class=MsoHeading2><span style='font-family:Calibri'>Who pays"
    "<o:p></o:p></span></p>"
    "<p class=MsoNormal>The <b style='mso-bidi-font-weight:normal'><span "
    "style='font-family:Calibri'>budget</span></b> is <i>secret</i>.<o:p></o:p></p>"
    "<p class=MsoNormal><o:p>&nbsp;</o:p></p>"
    "<p class=MsoListParagraphCxSpFirst style='text-indent:-18.0pt;mso-list:l0 level1 lfo1'>"
    "<![if !supportLists]><span style='font-family:Symbol'><span style='mso-list:Ignore'>·"
    "<span style='font:7.0pt \"Times New Roman\"'>&nbsp;&nbsp;</span></span></span>"
    "<![endif]>Oil<o:p></o:p></p>"
    "<p class=MsoListParagraphCxSpLast style='text-indent:-18.0pt;mso-list:l0 level1 lfo1'>"
    "<![if !supportLists]><span style='mso-list:Ignore'>·<span>&nbsp;</span></span>"
    "<![endif]>Gas<o:p></o:p></p>"
    "<p class=MsoNormal>The end<del cite='mailto:x'> of it</del><span "
    "class=MsoCommentReference><span style='mso-special-character:comment'>&nbsp;</span>"
    "</span>.</p><!--EndFragment--></body></html>"
)


def paste(page, html):
    document(page).click()
    page.evaluate(
        """html => {
            const data = new DataTransfer();
            data.setData("text/html", html);
            data.setData("text/plain", "plain text that must not be used");
            document.querySelector(".ProseMirror").dispatchEvent(
                new ClipboardEvent("paste", {clipboardData: data, bubbles: true, cancelable: true})
            );
        }""",
        html,
    )


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            GOOGLE_DOCS,
            [
                ("heading", "What Moscow wants"),
                (
                    "paragraph",
                    "Talks begin in **Riyadh** and *nobody* knows. "
                    "See [the report](https://example.org/report).",
                ),
                ("bullet", "Sanctions relief"),
                ("bullet", "A say over Ukraine"),
                ("paragraph", "Closing."),
            ],
        ),
        (
            WORD,
            [
                ("heading", "Who pays"),
                ("paragraph", "The **budget** is *secret*."),
                ("bullet", "Oil"),
                ("bullet", "Gas"),
                ("paragraph", "The end."),
            ],
        ),
    ],
    ids=["google-docs", "word"],
)
def test_paste_keeps_the_structure_and_drops_the_rest(
    page, live_server, journalist, source, expected
):
    errors = open_editor(page, live_server, journalist)
    page.fill("#id_headline", HEADLINE)
    paste(page, source)
    assert editor_blocks(page) == expected
    page.click("input[name=_continue]")
    expect(page.locator(".messagelist .success")).to_contain_text("was added successfully")
    assert stored_blocks(Story.objects.get(headline=HEADLINE)) == expected
    assert errors == []


@pytest.fixture
def story(editor):
    story = StoryFactory(headline="Fake news scandals", authors=[editor])
    for position, text in enumerate(
        [
            "Several *independent* outlets were **caught** out: see [the list](https://example.org/l).",
            "The editors apologised on Monday.",
            "Readers noticed first.",
        ],
        start=1,
    ):
        BlockFactory(story=story, position=position, text=text)
    with reversion.create_revision():
        story.save()
    return story


def test_opening_and_saving_changes_nothing_and_an_edit_keeps_every_other_block(
    page, live_server, editor, story
):
    before = list(story.blocks.order_by("position").values_list("pk", "kind", "text"))
    open_editor(page, live_server, editor, f"/admin/issues/story/{story.pk}/change/")
    page.click("input[name=_continue]")
    expect(page.locator(".messagelist .success")).to_be_visible()
    story.refresh_from_db()
    assert story.revision == 1
    assert list(story.blocks.order_by("position").values_list("pk", "kind", "text")) == before

    document(page).locator("p").nth(1).click()
    page.keyboard.press("End")
    page.keyboard.press("ArrowLeft")
    page.keyboard.type(", twice")
    page.click("input[name=_continue]")
    expect(page.locator(".messagelist .success")).to_be_visible()
    story.refresh_from_db()
    assert story.revision == 2
    after = list(story.blocks.order_by("position").values_list("pk", "kind", "text"))
    assert after == [
        before[0],
        (*before[1][:2], "The editors apologised on Monday, twice."),
        before[2],
    ]


def test_second_save_is_refused_with_the_diff_and_the_text_typed_stays(
    page, chromium, live_server, editor, story
):
    elena = UserFactory(
        username="elena", first_name="Elena", last_name="Editor", groups=["Editors"]
    )
    url = f"/admin/issues/story/{story.pk}/change/"
    open_editor(page, live_server, editor, url)

    context = chromium.new_context()
    other = context.new_page()
    try:
        open_editor(other, live_server, elena, url)
        document(other).locator("p").nth(1).click()
        other.keyboard.press("End")
        other.keyboard.type(" And on Tuesday.")
        other.click("input[name=_continue]")
        expect(other.locator(".messagelist .success")).to_be_visible()
    finally:
        context.close()

    document(page).locator("p").nth(2).click()
    page.keyboard.press("End")
    page.keyboard.type(" Then everyone did.")
    page.click("input[name=_continue]")

    expect(page.locator(".errorlist")).to_contain_text("Someone else saved this story")
    conflict = page.locator(".bell-conflict")
    expect(conflict).to_contain_text("Saved since by Elena Editor")
    expect(conflict.locator("ins")).to_contain_text(["And on Tuesday."])
    # What I typed is still in the editor, to merge with hers.
    expect(document(page).locator("p").nth(2)).to_have_text(
        "Readers noticed first. Then everyone did."
    )
    assert Block.objects.filter(story=story, text__contains="everyone").count() == 0
    assert re.search("Monday. And on Tuesday", "".join(story.blocks.values_list("text", flat=True)))


def test_the_draft_kept_on_the_server_comes_back_in_another_browser(
    page, chromium, live_server, journalist
):
    open_editor(page, live_server, journalist)
    page.fill("#id_headline", HEADLINE)
    document(page).click()
    page.keyboard.type("Moscow and Washington will meet on Tuesday.")
    expect(page.locator("[data-bell-editor-saved]")).to_contain_text("Draft kept at")

    def draft_has_the_paragraph():
        drafts = journalist.story_drafts.values_list("content", flat=True)
        return "Tuesday" in json.dumps(list(drafts))

    deadline = time.monotonic() + 10  # a draft goes to the server every few seconds
    while not draft_has_the_paragraph() and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    # Another browser (the first one crashed, or another computer): no copy of its own.
    context = chromium.new_context()
    other = context.new_page()
    try:
        open_editor(other, live_server, journalist)
        expect(other.locator("[data-bell-editor-notice]")).to_contain_text("unsaved changes")
        expect(other.locator("#id_headline")).to_have_value(HEADLINE)
        assert editor_blocks(other) == [
            ("paragraph", "Moscow and Washington will meet on Tuesday.")
        ]
    finally:
        context.close()


def test_preview_shows_the_story_as_typed_in_the_email_and_on_the_web(
    page, live_server, journalist
):
    page.set_viewport_size({"width": 1366, "height": 900})
    errors = open_editor(page, live_server, journalist)
    preview = page.locator("[data-bell-editor-preview]")
    expect(preview).to_be_visible()  # open beside the editor on a wide screen
    page.fill("#id_headline", HEADLINE)
    document(page).click()
    page.keyboard.type("They meet in ")
    type_bold(page, "Riyadh")
    page.keyboard.type(".")

    frame = page.frame_locator("[data-bell-preview-frame]")
    expect(frame.locator("strong", has_text="Riyadh")).to_be_visible()
    expect(frame.locator("h2.headline")).to_have_text(HEADLINE)  # the email's own markup
    iframe = page.locator("[data-bell-preview-frame]")
    assert iframe.evaluate("frame => frame.style.width") == "375px"

    preview.get_by_role("button", name="Web").click()
    preview.get_by_role("button", name="Desktop").click()
    expect(frame.locator("section.story h2")).to_have_text(HEADLINE)  # the archive page
    expect(frame.locator("section.story strong")).to_have_text("Riyadh")
    # Laid out at the new width once the frame's page has loaded (a moment after it shows).
    expect(iframe).to_have_attribute("style", re.compile(r"(^|;\s*)width: 1024px"))

    page.get_by_role("button", name="Preview").click()
    expect(preview).to_be_hidden()
    assert errors == []


def test_lists_end_with_shift_tab_and_the_editor_passes_axe(page, live_server, journalist, story):
    page.set_viewport_size({"width": 1366, "height": 900})
    errors = open_editor(page, live_server, journalist)
    document(page).click()
    page.keyboard.type("- First point")
    page.keyboard.press("Enter")
    page.keyboard.type("Back to prose")
    page.keyboard.press("Shift+Tab")
    assert editor_blocks(page) == [("bullet", "First point"), ("paragraph", "Back to prose")]
    # The editor's page, with its toolbar, the link dialog open and the preview beside it.
    page.keyboard.press("Control+k")
    expect(page.get_by_label("Address")).to_be_focused()
    violations = serious_violations(page)
    assert violations == [], violations_text(violations)
    page.keyboard.press("Escape")
    violations = serious_violations(page)
    assert violations == [], violations_text(violations)
    assert errors == []
