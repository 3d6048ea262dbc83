"""What an archive page says about itself to search engines and link previews: its canonical
address, a description, Open Graph and Twitter card tags, and schema.org ``NewsArticle`` JSON-LD.

Addresses are absolute and start with ``BELLCMS_BASE_URL``, the newsroom's own address, also on a
mirror: search engines credit the original.
"""

import json
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.html import format_html
from django.utils.safestring import SafeString

DESCRIPTION_LENGTH = 200
# Inside <script>, "</script>" or "<!--" in a headline would end or change the script; U+2028
# and U+2029 end a line in older JavaScript. Escaped, the JSON means the same.
_SCRIPT_ESCAPES = {
    ord("<"): "\\u003C",
    ord(">"): "\\u003E",
    ord("&"): "\\u0026",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}


def script_json(value, **dumps) -> str:
    """``value`` as JSON that may stand inside a ``<script>`` element as it is."""
    return json.dumps(value, ensure_ascii=False, **dumps).translate(_SCRIPT_ESCAPES)


def absolute(path: str) -> str:
    return f"{settings.BELLCMS_BASE_URL}{path}"


def shorten(text: str, length: int = DESCRIPTION_LENGTH) -> str:
    text = " ".join(text.split())
    if len(text) <= length:
        return text
    return text[: length - 1].rsplit(" ", 1)[0].rstrip(",.;:\N{EM DASH}\N{EN DASH}- ") + "…"


@dataclass(frozen=True)
class PageMeta:
    title: str
    description: str
    canonical: str
    kind: str = "website"
    site_name: str = ""
    locale: str = ""
    published: str = ""
    modified: str = ""
    authors: tuple[str, ...] = ()
    structured: dict = field(default_factory=dict)

    @property
    def json_ld(self) -> SafeString:
        if not self.structured:
            return SafeString("")
        payload = script_json(self.structured)
        return format_html('<script type="application/ld+json">{}</script>', SafeString(payload))


def _locale(newsletter) -> str:
    return {"en": "en_GB", "ru": "ru_RU"}.get(newsletter.language, newsletter.language)


def _text(paragraphs) -> str:
    return " ".join(fragment.text for fragment in paragraphs)


def _article_meta(
    request, issue, *, headline, description, modified, authors=(), section
) -> PageMeta:
    """A page that is a ``NewsArticle``: an issue or one of its stories."""
    newsletter = issue.newsletter
    url = absolute(request.path)
    modified = max(modified, issue.published_at).isoformat()
    return PageMeta(
        title=headline,
        description=description,
        canonical=url,
        kind="article",
        site_name=newsletter.name,
        locale=_locale(newsletter),
        published=issue.published_at.isoformat(),
        modified=modified,
        authors=authors,
        structured={
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "headline": headline[:110],
            "description": description,
            "url": url,
            "mainEntityOfPage": url,
            "datePublished": issue.published_at.isoformat(),
            "dateModified": modified,
            "inLanguage": newsletter.language,
            "articleSection": section,
            "author": [{"@type": "Person", "name": name} for name in authors]
            or [{"@type": "Organization", "name": newsletter.name}],
            "publisher": {"@type": "Organization", "name": newsletter.name},
            "isAccessibleForFree": True,
        },
    )


def issue_meta(request, issue, context) -> PageMeta:
    first_story = context["stories"][0] if context["stories"] else None
    description = shorten(
        _text(context["intro"])
        or (first_story and " ".join(p.fragment.text for p in first_story["body"][:2]))
        or issue.title
    )
    return _article_meta(
        request,
        issue,
        headline=issue.title,
        description=description,
        modified=issue.updated_at,
        section=issue.newsletter.name,
    )


def story_meta(request, issue, story, context) -> PageMeta:
    shown = context["stories"][0]
    paragraphs = [part.fragment.text for part in shown["body"] if part.kind == "paragraph"]
    if shown["withdrawn"]:
        paragraphs = [fragment.text for fragment in shown["withdrawn"]["note"]]
    return _article_meta(
        request,
        issue,
        headline=shown["headline"],
        description=shorten(" ".join(paragraphs[:2]) or shown["headline"]),
        modified=story.updated_at,
        authors=tuple(context["authors"]),
        section=f"{issue.newsletter.name} #{issue.number}",
    )
