"""An issue's email for one subscriber: the issue rendered once, personalised cheaply.

``issue_mailing_prepare`` adds the footer (unsubscribe and preference links) to the rendered
issue once, with placeholders where the personal links go. ``IssueMailing.message`` then only
signs two tokens, replaces the placeholders and sets the headers Gmail and Yahoo require of
bulk senders: ``List-Unsubscribe`` (https and mailto), ``List-Unsubscribe-Post`` (RFC 8058),
``List-Id``, and a ``Message-ID`` that is the same every time for one (issue, subscriber), so a
retried send is recognisably the same message. No query, no template rendering per recipient.
"""

import dataclasses
from email.header import Header
from email.utils import parseaddr

import css_inline
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import escape

from issues.models import Issue
from issues.rendering import RenderedIssue

from ..emails import absolute_url
from ..tokens import preferences_token_make, unsubscribe_token_make

# Placeholders are plain ASCII words that survive HTML escaping and CSS inlining unchanged and
# never occur in an issue by chance.
UNSUBSCRIBE_PLACEHOLDER = "bellcms-personal-unsubscribe-url-7f3c9"
PREFERENCES_PLACEHOLDER = "bellcms-personal-preferences-url-7f3c9"
ONE_CLICK = "List-Unsubscribe=One-Click"


def _domain_of(address: str) -> str:
    return parseaddr(address)[1].rpartition("@")[2].lower() or "localhost"


def unsubscribe_mailto(from_email: str) -> str:
    return settings.SUBSCRIBERS_UNSUBSCRIBE_MAILTO or f"unsubscribe@{_domain_of(from_email)}"


@dataclasses.dataclass(frozen=True)
class IssueMailing:
    """One issue, rendered with its footer, ready to address to any number of subscribers."""

    issue_id: int
    newsletter_id: int
    # What the Message-ID names: "issue-12", or "notice-3" for a correction notice.
    ident: str
    list_id: str
    domain: str
    mailto: str
    rendered: RenderedIssue

    def personal(self, *, subscriber) -> "Personal":
        """What differs between two subscribers' copies: signed links and identifiers."""
        newsletter = _NewsletterRef(self.newsletter_id)
        unsubscribe = unsubscribe_token_make(subscriber=subscriber, newsletter=newsletter)
        preferences = preferences_token_make(subscriber=subscriber)
        unsubscribe_url = _TOKEN_URLS.unsubscribe(unsubscribe)
        # quote("unsubscribe " + token): a signed token is URL-safe base64 and colons, so only
        # the space and the colons need escaping.
        mailto = f"mailto:{self.mailto}?subject=unsubscribe%20{unsubscribe.replace(':', '%3A')}"
        return Personal(
            to=subscriber.email,
            message_id=f"<{self.ident}.{subscriber.public_id.hex}@{self.domain}>",
            unsubscribe_url=unsubscribe_url,
            preferences_url=_TOKEN_URLS.preferences(preferences),
            list_unsubscribe=f"<{unsubscribe_url}>, <{mailto}>",
        )

    def message(self, *, subscriber, subject_prefix: str = "") -> EmailMultiAlternatives:
        """The complete message for one subscriber, addressed to ``subscriber.email``, as a
        Django message (previews, .eml files, non-SMTP backends). Dispatch over SMTP builds
        the same message as bytes: ``subscribers.dispatch.wire``."""
        personal = self.personal(subscriber=subscriber)
        copy = self._linked(personal.unsubscribe_url, personal.preferences_url)
        copy = dataclasses.replace(copy, subject=subject_prefix + copy.subject)
        return copy.message(
            to=personal.to,
            headers={
                "Message-ID": personal.message_id,
                "List-Id": self.list_id,
                "List-Unsubscribe": personal.list_unsubscribe,
                "List-Unsubscribe-Post": ONE_CLICK,
            },
        )

    def _linked(self, unsubscribe: str, preferences: str) -> RenderedIssue:
        """The rendered issue with these two links (or merge fields) in its footer."""
        return dataclasses.replace(
            self.rendered,
            text=self.rendered.text.replace(UNSUBSCRIBE_PLACEHOLDER, unsubscribe).replace(
                PREFERENCES_PLACEHOLDER, preferences
            ),
            html=self.rendered.html.replace(UNSUBSCRIBE_PLACEHOLDER, escape(unsubscribe)).replace(
                PREFERENCES_PLACEHOLDER, escape(preferences)
            ),
        )

    def batch_message(
        self, *, subscribers, merge_field: str
    ) -> tuple[EmailMultiAlternatives, list["Personal"]]:
        """One message to many subscribers for an ESP's batch send (django-anymail): the body
        once, with the ESP's merge fields (``merge_field``, e.g. ``%recipient.{}%``) where the
        personal links go, and each subscriber's links, ``List-Unsubscribe`` and
        ``Message-ID`` as ``merge_data`` and ``merge_headers``. Each subscriber gets a copy
        addressed to them alone."""
        personals = [self.personal(subscriber=subscriber) for subscriber in subscribers]
        copy = self._linked(
            merge_field.format("unsubscribe_url"), merge_field.format("preferences_url")
        )
        message = copy.message(
            to=[personal.to for personal in personals],
            headers={"List-Id": self.list_id, "List-Unsubscribe-Post": ONE_CLICK},
        )
        # Each copy's own Message-ID comes with its merge headers.
        message.extra_headers.pop("Message-ID", None)
        message.merge_data = {
            personal.to: {
                "unsubscribe_url": personal.unsubscribe_url,
                "preferences_url": personal.preferences_url,
            }
            for personal in personals
        }
        message.merge_headers = {
            personal.to: {
                "List-Unsubscribe": personal.list_unsubscribe,
                "Message-ID": personal.message_id,
            }
            for personal in personals
        }
        return message, personals


@dataclasses.dataclass(frozen=True)
class Personal:
    """One subscriber's part of an issue email. All ASCII."""

    to: str
    message_id: str
    unsubscribe_url: str
    preferences_url: str
    list_unsubscribe: str


class _TokenUrls:
    """The absolute URLs of the token views, resolved once per process and filled in per
    subscriber (``reverse`` for each of thousands of recipients costs more than signing)."""

    _MARKER = "bellcms-token-marker-7f3c9"

    def __init__(self):
        self._around = {}

    def _url(self, name: str, token: str) -> str:
        key = (name, settings.BELLCMS_BASE_URL)
        if key not in self._around:
            url = absolute_url(reverse(name, args=[self._MARKER]))
            self._around[key] = url.partition(self._MARKER)[::2]
        before, after = self._around[key]
        # Signed tokens are URL-safe base64 and colons: reverse() would leave them as they are.
        return f"{before}{token}{after}"

    def unsubscribe(self, token: str) -> str:
        return self._url("subscribers:unsubscribe", token)

    def preferences(self, token: str) -> str:
        return self._url("subscribers:preferences", token)


_TOKEN_URLS = _TokenUrls()


@dataclasses.dataclass(frozen=True)
class _NewsletterRef:
    # The tokens need only the newsletter's primary key.
    pk: int


def _list_id(newsletter, domain: str) -> str:
    """RFC 2919: a phrase, then ``<slug.domain>`` in clear.

    Only the phrase may be RFC 2047-encoded: handed a non-ASCII value, Django would encode the
    whole header, the list-id included, and no mail client would find the list. So the value
    given to Django is ASCII already: a quoted phrase, or the name's encoded words.
    """
    name = " ".join(newsletter.name.replace('"', "'").replace("\\", "").split())
    list_id = f"<{newsletter.slug}.{domain}>"
    if name.isascii():
        return f'"{name}" {list_id}'
    # Encoded words (at most 75 characters each) on one line; the generator folds between them.
    encoded = Header(name, "utf-8", header_name="List-Id").encode(linesep="\n")
    return f"{' '.join(encoded.split())} {list_id}"


def issue_mailing_prepare(
    *, rendered: RenderedIssue, issue: Issue, ident: str | None = None
) -> IssueMailing:
    """Add the footer to a rendered issue once; see ``IssueMailing.message``. A correction
    notice is rendered like an issue and goes out under its story's issue's newsletter, with
    its own ``ident`` ("notice-3") in its Message-ID."""
    newsletter = issue.newsletter
    context = {
        "newsletter": newsletter,
        "unsubscribe_url": UNSUBSCRIBE_PLACEHOLDER,
        "preferences_url": PREFERENCES_PLACEHOLDER,
    }
    text_footer = render_to_string("emails/subscribers/issue_footer.txt", context)
    html_footer = css_inline.inline_fragment(
        render_to_string("emails/subscribers/issue_footer.html", context), FOOTER_CSS
    )
    html = rendered.html.replace("</head>", FOOTER_DARK_STYLE + "</head>", 1)
    head, body_end, tail = html.rpartition("</body>")
    html = f"{head}{html_footer}{body_end}{tail}" if body_end else html + html_footer
    domain = _domain_of(rendered.from_email)
    return IssueMailing(
        issue_id=issue.pk,
        newsletter_id=newsletter.pk,
        ident=ident or f"issue-{issue.pk}",
        list_id=_list_id(newsletter, settings.SUBSCRIBERS_LIST_ID_DOMAIN or domain),
        domain=domain,
        mailto=unsubscribe_mailto(rendered.from_email),
        rendered=dataclasses.replace(
            rendered,
            text=rendered.text.rstrip("\n") + "\n\n" + text_footer.strip() + "\n",
            html=html,
        ),
    )


def issue_message_for_subscriber(
    *, rendered: RenderedIssue, issue: Issue, subscriber
) -> EmailMultiAlternatives:
    """The issue's email for one subscriber. Dispatch prepares once and calls ``message``."""
    return issue_mailing_prepare(rendered=rendered, issue=issue).message(subscriber=subscriber)


FOOTER_CSS = """
.footer { width: 100%; }
.footer-cell { padding: 8px 12px 32px 12px; font-size: 14px; line-height: 1.5;
  font-family: -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, Arial, sans-serif;
  color: #555555; text-align: center; }
.footer-cell a { color: #0b57d0; text-decoration: underline; }
"""
# Media queries cannot be inlined: the footer's dark-mode colour goes into the head.
FOOTER_DARK_STYLE = (
    "<style>@media (prefers-color-scheme: dark) "
    "{ .footer-cell { color: #b8b8b8 !important; } }</style>\n"
)
