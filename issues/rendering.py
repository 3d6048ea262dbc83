"""An issue rendered for email: plain text, an email-safe HTML document and a complete message.

Block text, intros and takeaways are stored as inline Markdown: links, *emphasis* and **strong**.
One markdown-it parser reads it. The HTML form is sanitized again with nh3 and the text form is
written from the same tokens, so both forms always say the same words. Headlines, titles and the
kicker are plain text and only ever escaped.

Rendering an issue costs a fixed number of queries whatever its length (see
``issue_render_context``): dispatch renders once and personalises each message cheaply.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import formataddr, make_msgid, parseaddr
from urllib.parse import urlsplit

import css_inline
import nh3
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from markdown_it import MarkdownIt

from .corrections import notice_record, record_since
from .markup import ALLOWED_URL_SCHEMES
from .models import Block, Issue, Withdrawal

TEXT_TEMPLATE = "emails/issue.txt"
HTML_TEMPLATE = "emails/issue.html"
UNDISCLOSED_RECIPIENTS = "undisclosed-recipients:;"

_BLANK_LINES = re.compile(r"\n[ \t]*(?:\n[ \t]*)+")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")


def _is_allowed_url(url: str) -> bool:
    return urlsplit(url.strip()).scheme.lower() in ALLOWED_URL_SCHEMES


_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
# Everything but links and emphasis stays literal text: images would load trackers or break
# layouts, raw HTML and entities would let stored text mean something other than it shows, and
# backticks and <autolinks> are not part of the stored format.
_markdown.disable(["image", "html_inline", "autolink", "backticks", "entity"])
# A link to anything else (javascript:, data:, a relative path that means nothing in an inbox)
# is not parsed as a link at all, so both forms show the author's text as typed.
_markdown.validateLink = _is_allowed_url

# The second line of defence: whatever markdown-it lets through, only these survive.
_cleaner = nh3.Cleaner(
    tags={"a", "em", "strong", "b", "i"},
    clean_content_tags={"script", "style"},
    attributes={"a": {"href"}, "*": set()},
    url_schemes=set(ALLOWED_URL_SCHEMES),
    url_relative="deny",
    link_rel="noopener noreferrer",
    set_tag_attribute_values={"a": {"target": "_blank"}},
)

# Every plain rule goes into style attributes, so clients that strip <style> still get the
# whole layout. The template's second <style> (data-css-inline="keep") holds only the @media
# rules for dark mode and small screens, and stays where it is, after <meta charset>.
_inliner = css_inline.CSSInliner(keep_style_tags=False, load_remote_stylesheets=False)


def inline_html(markdown: str) -> SafeString:
    """Inline Markdown as sanitized HTML: only a[href], em, strong, b and i, http(s)/mailto."""
    return mark_safe(_cleaner.clean(_markdown.renderInline(markdown)))  # noqa: S308 - nh3 output


def inline_text(markdown: str, *, urls: bool = True) -> str:
    """Inline Markdown as plain text.

    Emphasis markers are dropped, escapes resolved, a link becomes "text (url)" unless the text
    already is the url, and line breaks become spaces (a block is one paragraph, one line).
    With ``urls=False`` a link is its text alone: the words a reader reads, nothing else.
    """
    parts: list[str] = []
    open_links: list[tuple[str, int]] = []
    for token in _inline_tokens(markdown):
        if token.type in {"softbreak", "hardbreak"}:
            parts.append(" ")
        elif token.type == "link_open":
            open_links.append((str(token.attrGet("href") or ""), len(parts)))
        elif token.type == "link_close":
            href, start = open_links.pop()
            if urls and not _link_text_is_url("".join(parts[start:]), href):
                parts.append(f" ({href})")
        elif not token.type.endswith(("_open", "_close")):
            parts.append(token.content)
    return "".join(parts)


def _inline_tokens(markdown: str):
    for token in _markdown.parseInline(markdown):
        yield from token.children or ()


def _link_text_is_url(text: str, href: str) -> bool:
    readable = _markdown.normalizeLinkText(href)
    return text in {href, readable} or f"mailto:{text}" in {href, readable}


@dataclass(frozen=True)
class Fragment:
    """One piece of inline Markdown, rendered once for each form."""

    text: str
    html: SafeString

    @classmethod
    def from_markdown(cls, markdown: str) -> "Fragment":
        return cls(text=inline_text(markdown), html=inline_html(markdown))


@dataclass(frozen=True)
class BodyPart:
    """A sub-heading, a paragraph, or a run of consecutive bullet points as one list."""

    kind: str
    fragments: tuple[Fragment, ...]

    @property
    def fragment(self) -> Fragment:
        return self.fragments[0]


def paragraphs(markdown: str) -> list[Fragment]:
    """An intro or a takeaway, typed in a textarea, as its paragraphs: a blank line starts a
    new one. The email, the archive and its API split them alike."""
    chunks = (chunk.strip() for chunk in _PARAGRAPH_BREAK.split(markdown))
    return [Fragment.from_markdown(chunk) for chunk in chunks if chunk]


def _body(blocks) -> list[BodyPart]:
    parts: list[BodyPart] = []
    for block in blocks:
        fragment = Fragment.from_markdown(block.text)
        if block.kind == Block.Kind.BULLET:
            if parts and parts[-1].kind == "list":
                parts[-1] = BodyPart(kind="list", fragments=(*parts[-1].fragments, fragment))
            else:
                parts.append(BodyPart(kind="list", fragments=(fragment,)))
        else:
            parts.append(BodyPart(kind=block.kind, fragments=(fragment,)))
    return parts


def _underline(text: str, char: str) -> str:
    return char * len(text)


def issue_render_context(*, issue: Issue) -> dict:
    """The template context for both forms, built once per issue in a fixed number of queries
    (the issue with its stories, blocks and their record; the earlier stories' corrections
    it carries at its top).

    The issue is read again with its newsletter, stories and blocks so that no template ever
    queries per story or block.
    """
    issue = Issue.objects.with_stories().select_related("newsletter").get(pk=issue.pk)
    stories = [
        story_record_apply(
            _story_context(story.headline, story.blocks.all(), story.takeaway, slug=story.slug),
            story,
        )
        for story in issue.stories.all()
    ]
    context = _issue_context(issue, stories)
    context["record"] = [_carried(row) for row in record_since(issue)]
    return context


def _carried(row) -> dict:
    """A correction or a withdrawal as an issue's "Corrections" section tells it; a takedown
    without its headline."""
    if isinstance(row, Withdrawal):
        takedown = row.kind == Withdrawal.Kind.TAKEDOWN
        headline, note = ("" if takedown else row.story.headline), withdrawal_note(row)
    else:
        headline, note = row.story.headline, paragraphs(row.note)
    return {
        "label": row.get_kind_display(),
        "headline": headline,
        "number": row.story.issue.number,
        "note": note,
    }


# Where a taken-down story was, readers see this line and nothing else: not its headline, not
# why (the reason may itself be what must not be published).
TAKEDOWN_LINE = _lazy("This story has been removed for legal or safety reasons.")


def withdrawal_note(withdrawal) -> list[Fragment]:
    """What readers are told of a withdrawal carried out: a retraction's note, or a
    takedown's fixed line."""
    if withdrawal.kind == Withdrawal.Kind.TAKEDOWN:
        return paragraphs(str(TAKEDOWN_LINE))
    return paragraphs(withdrawal.note)


def story_taken_down(story) -> bool:
    """Whether ``story`` (its withdrawals prefetched) is taken down: its headline is not shown."""
    return any(w.kind == Withdrawal.Kind.TAKEDOWN for w in story.withdrawals.all())


def story_public_headline(story) -> str:
    """The headline readers see: a taken-down story's is replaced by a fixed one."""
    return str(_lazy("Removed story")) if story_taken_down(story) else story.headline


def story_record_apply(context: dict, story) -> dict:
    """Add to a story's ``context`` what readers are told about it since it went out (its
    ``corrections`` and ``withdrawn``: the withdrawal carried out, if any), from ``story``'s
    prefetched record (``story_record_prefetches``). A withdrawn story loses its body and
    takeaway; a taken-down one its headline too."""
    withdrawals = list(story.withdrawals.all())
    withdrawn = next((w for w in withdrawals if w.kind == Withdrawal.Kind.TAKEDOWN), None)
    withdrawn = withdrawn or (withdrawals[0] if withdrawals else None)
    context["corrections"] = list(story.corrections.all())
    context["withdrawn"] = None
    if withdrawn is not None:
        takedown = withdrawn.kind == Withdrawal.Kind.TAKEDOWN
        context.update(
            body=[],
            takeaway=[],
            corrections=[],
            withdrawn={
                "kind": withdrawn.kind,
                "label": withdrawn.get_kind_display(),
                "at": withdrawn.approved_at,
                "note": withdrawal_note(withdrawn),
            },
        )
        if takedown:
            context["headline"] = story_public_headline(story)
            context["headline_rule"] = _underline(context["headline"], "-")
    return context


def story_preview_context(*, issue: Issue, headline: str, blocks, takeaway: str) -> dict:
    """The context of ``issue`` holding one story: what the story editor's preview shows (the
    story as typed: ``blocks`` are unsaved ``Block`` rows; ``issue`` may be unsaved too, with its
    newsletter set), and a published story's own page in the archive."""
    return _issue_context(issue, [_story_context(headline, blocks, takeaway)])


def _story_context(headline: str, blocks, takeaway: str, slug: str = "") -> dict:
    return {
        "headline": headline,
        "slug": slug,
        "headline_rule": _underline(headline, "-"),
        "body": _body(blocks),
        "takeaway": paragraphs(takeaway),
    }


def _issue_context(issue: Issue, stories: list[dict]) -> dict:
    newsletter = issue.newsletter
    return {
        "issue": issue,
        "newsletter": newsletter,
        "language": get_language() or settings.LANGUAGE_CODE,
        "subject": issue.subject,
        "subject_rule": _underline(issue.subject, "="),
        "kicker": newsletter.kicker,
        "title": issue.title,
        "intro": paragraphs(issue.intro),
        "takeaway_label": newsletter.takeaway_label,
        "stories": stories,
        # Where readers find the newsletter when its site is blocked: the foot of every email.
        "mirrors": newsletter.mirrors,
    }


def _text_from_context(context: dict) -> str:
    # The template lays out blocks freely; here every run of blank lines becomes exactly one.
    rendered = render_to_string(TEXT_TEMPLATE, context)
    return _BLANK_LINES.sub("\n\n", rendered).strip() + "\n"


def html_from_context(context: dict) -> str:
    """The email's HTML for a context from ``issue_render_context`` or a story preview."""
    return _inliner.inline(render_to_string(HTML_TEMPLATE, context))


@dataclass(frozen=True)
class RenderedIssue:
    """An issue rendered once: the subject, both bodies and the sender, ready to address."""

    subject: str
    text: str
    html: str
    from_email: str

    def message(
        self, *, to: str | Sequence[str] | None = None, headers: dict | None = None
    ) -> EmailMultiAlternatives:
        """A multipart/alternative message (text/plain, then text/html) for these recipients.

        Without recipients the To header reads "undisclosed-recipients:;", as for a preview or
        an .eml file; such a message is never handed to the mail backend by ``send()``.
        """
        recipients = [to] if isinstance(to, str) else list(to or ())
        all_headers = {"Message-ID": make_msgid(domain=_domain_of(self.from_email))}
        if not recipients:
            all_headers["To"] = UNDISCLOSED_RECIPIENTS
        all_headers.update(headers or {})
        message = EmailMultiAlternatives(
            subject=self.subject,
            body=self.text,
            from_email=self.from_email,
            to=recipients,
            headers=all_headers,
        )
        message.attach_alternative(self.html, "text/html")
        return message


def _domain_of(address: str) -> str:
    # Django would otherwise ask DNS for this host's name for every Message-ID.
    return parseaddr(address)[1].rpartition("@")[2] or "localhost"


def _sender(newsletter) -> str:
    if newsletter.sender_email:
        return formataddr((newsletter.sender_name, newsletter.sender_email))
    return settings.DEFAULT_FROM_EMAIL


def issue_render(*, issue: Issue) -> RenderedIssue:
    """Render the issue once in every form; ``.message(to=…)`` then addresses copies cheaply."""
    return _rendered(issue_render_context(issue=issue))


def _rendered(context: dict) -> RenderedIssue:
    """An issue's or a notice's context in every form, from its newsletter's sender."""
    return RenderedIssue(
        subject=context["subject"],
        text=_text_from_context(context),
        html=html_from_context(context),
        from_email=_sender(context["newsletter"]),
    )


def issue_render_text(*, issue: Issue) -> str:
    """The issue as plain text, laid out like the newsroom's own text (see the sample issue)."""
    return _text_from_context(issue_render_context(issue=issue))


def issue_render_html(*, issue: Issue) -> str:
    """The issue as one complete email-safe HTML document with its CSS inlined."""
    return html_from_context(issue_render_context(issue=issue))


def issue_render_message(
    *, issue: Issue, to: str | Sequence[str] | None = None
) -> EmailMultiAlternatives:
    """The issue as an email from the newsletter's sender (see ``RenderedIssue.message``)."""
    return issue_render(issue=issue).message(to=to)


def issue_render_eml(*, issue: Issue, to: str | Sequence[str] | None = None) -> bytes:
    """The issue as the bytes of a complete .eml message (RFC 5322, UTF-8 bodies)."""
    return issue_render_message(issue=issue, to=to).message().as_bytes()


def notice_render(*, notice) -> RenderedIssue:
    """A correction notice (``CorrectionNotice``) as an email from the newsletter, laid out
    like an issue: what the readers got, then the record since, then where the story stands.
    Once a story is taken down, no part of the notice names it or links to it."""
    story = notice.story
    issue = Issue.objects.select_related("newsletter").get(pk=story.issue_id)
    rows = notice_record(notice)
    # Taken down by now, whether in this notice's window or after it was made.
    taken_down = story.withdrawals.carried_out().filter(kind=Withdrawal.Kind.TAKEDOWN).exists()
    facts = {
        "number": issue.number,
        "newsletter": issue.newsletter.name,
        "date": date_format(timezone.localtime(issue.published_at), "j F Y"),
        "headline": story.headline,
    }
    if taken_down:
        title = _("A story you received has been removed")
        intro = _(
            "A story in issue #%(number)s of %(newsletter)s, which you received on %(date)s, "
            "has been removed."
        )
    else:
        title = f"{rows[-1].get_kind_display()}: {story.headline}"
        url = settings.BELLCMS_BASE_URL + reverse(
            "archive:story", args=[issue.newsletter.slug, issue.number, story.slug]
        )
        intro = _(
            "On %(date)s, issue #%(number)s of %(newsletter)s, which you received, carried "
            "“%(headline)s”. We have since set the record straight.\n\n"
            "[Read the story as it stands now](%(url)s)."
        )
        facts["url"] = url
    context = _issue_context(issue, [])
    record = [_carried(row) for row in rows]
    if taken_down:
        record = [{**entry, "headline": ""} for entry in record]
    subject = f"{issue.newsletter.kicker}: {title}"
    context.update(
        subject=subject,
        subject_rule=_underline(subject, "="),
        title=title,
        intro=paragraphs(intro % facts),
        record=record,
    )
    return _rendered(context)
