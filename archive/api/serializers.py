"""What the API says about newsletters, issues and stories: the published words and nothing else.

No status, revision, schedule, source or citation ever leaves through here, and people appear
only by the full name the archive prints (``archive.queries.public_name``). Addresses are
absolute and start with ``BELLCMS_BASE_URL``, as the archive's canonical links do.
"""

from django.urls import reverse
from django.utils.html import format_html_join
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from issues.models import Block, Issue, Newsletter, Story
from issues.rendering import inline_html, paragraphs, story_public_headline, story_record_apply

from ..queries import story_authors, story_path
from ..seo import absolute


class MarkupSerializer(serializers.Serializer):
    markdown = serializers.CharField(help_text="As stored: inline Markdown, links and emphasis.")
    html = serializers.CharField(help_text="Sanitized HTML, each paragraph in a <p>.")


@extend_schema_field(MarkupSerializer)
class ParagraphsField(serializers.Field):
    """Inline Markdown in paragraphs (an intro, a takeaway), as typed and as HTML."""

    def __init__(self, **kwargs):
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, value: str) -> dict:
        html = format_html_join("", "<p>{}</p>", ((p.html,) for p in paragraphs(value)))
        return {"markdown": value, "html": str(html)}


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


# A refused filter value (400): each filter's messages, by the filter's name.
FILTER_ERRORS_SCHEMA = {
    "type": "object",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}


def issue_url(issue: Issue) -> str:
    return absolute(reverse("archive:issue", args=[issue.newsletter.slug, issue.number]))


def story_url(story: Story) -> str:
    issue = story.issue
    if not story.slug:  # saving a story always gives it one; a row written around save() may not
        return issue_url(issue)
    return absolute(story_path(story))


class NewsletterUrlsSerializer(serializers.Serializer):
    archive = serializers.URLField(help_text="The newsletter's issues in the web archive.")
    rss = serializers.URLField(help_text="RSS 2.0 feed of the newsletter's issues.")
    atom = serializers.URLField(help_text="Atom feed of the newsletter's issues.")


class NewsletterSerializer(serializers.ModelSerializer):
    mirrors = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="Addresses where readers find the archive when this site is blocked.",
    )
    urls = serializers.SerializerMethodField()

    class Meta:
        model = Newsletter
        fields = ["slug", "name", "kicker", "language", "mirrors", "urls"]
        read_only_fields = fields

    @extend_schema_field(NewsletterUrlsSerializer)
    def get_urls(self, newsletter: Newsletter) -> dict:
        slug = newsletter.slug
        return {
            "archive": absolute(reverse("archive:newsletter", args=[slug])),
            "rss": absolute(reverse("archive:rss", args=[slug])),
            "atom": absolute(reverse("archive:atom", args=[slug])),
        }


# Every story of a published issue has one: it is made when the story is saved.
_STORY_SLUG_HELP = "The last part of the story's archive address; kept once published."


class StoryLinkSerializer(serializers.ModelSerializer):
    """A story as an issue lists it."""

    slug = serializers.CharField(read_only=True, help_text=_STORY_SLUG_HELP)
    url = serializers.SerializerMethodField(help_text="The story's page in the web archive.")

    class Meta:
        model = Story
        fields = ["id", "slug", "headline", "url"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, story: Story) -> str:
        return story_url(story)


class IssueSummarySerializer(serializers.ModelSerializer):
    """An issue as one of its stories names it."""

    newsletter = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, help_text="The newsletter's slug."
    )
    published_at = serializers.DateTimeField(read_only=True, help_text="When it went out.")
    url = serializers.SerializerMethodField(help_text="The issue's page in the web archive.")

    class Meta:
        model = Issue
        fields = ["id", "newsletter", "number", "title", "published_at", "url"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, issue: Issue) -> str:
        return issue_url(issue)


class IssueSerializer(IssueSummarySerializer):
    """A published issue: its intro and its stories' headlines and addresses."""

    intro = ParagraphsField(help_text="The greeting that opens the issue.")
    stories = StoryLinkSerializer(many=True, read_only=True, help_text="In the issue's order.")

    class Meta(IssueSummarySerializer.Meta):
        fields = [*IssueSummarySerializer.Meta.fields, "intro", "stories"]
        read_only_fields = fields


class BlockSerializer(serializers.ModelSerializer):
    html = serializers.SerializerMethodField(help_text="The text as sanitized inline HTML.")

    class Meta:
        model = Block
        fields = ["kind", "text", "html"]
        read_only_fields = fields
        extra_kwargs = {"text": {"help_text": "Inline Markdown: links and emphasis only."}}

    def get_html(self, block: Block) -> str:
        return str(inline_html(block.text))


class CorrectionSerializer(serializers.Serializer):
    number = serializers.IntegerField(help_text="Numbered per story, from 1.")
    kind = serializers.ChoiceField(choices=["correction", "clarification", "editors_note"])
    note = serializers.CharField(help_text="The public note.")
    date = serializers.DateTimeField()


class NoticeSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["retraction", "takedown"])
    date = serializers.DateTimeField(help_text="When it was carried out.")
    text = serializers.CharField(help_text="The editor's note, or a takedown's fixed line.")


class StorySerializer(serializers.ModelSerializer):
    """A story of a published issue, whole: body, takeaway and authors."""

    slug = serializers.CharField(read_only=True, help_text=_STORY_SLUG_HELP)
    url = serializers.SerializerMethodField(help_text="The story's page in the web archive.")
    issue = IssueSummarySerializer(read_only=True)
    authors = serializers.SerializerMethodField(
        help_text="Full names of the credited authors; people without one are left out."
    )
    blocks = BlockSerializer(many=True, read_only=True, help_text="The body, in order.")
    takeaway = ParagraphsField(help_text="Closes the story under the newsletter's label.")

    corrections = serializers.SerializerMethodField(
        help_text="Its corrections, clarifications and editor's notes, newest first."
    )
    notice = serializers.SerializerMethodField(
        help_text="Set once the story is retracted or taken down: then its body is empty."
    )

    class Meta:
        model = Story
        fields = [
            "id",
            "slug",
            "headline",
            "url",
            "issue",
            "authors",
            "blocks",
            "takeaway",
            "corrections",
            "notice",
        ]
        read_only_fields = fields

    def to_representation(self, story: Story) -> dict:
        data = super().to_representation(story)
        if data["notice"] is not None:
            # Withdrawn: the notice stands where the words were; they are not public any more.
            empty = {"markdown": "", "html": ""}
            data.update(headline=story_public_headline(story), blocks=[], takeaway=empty)
        return data

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, story: Story) -> str:
        return story_url(story)

    def get_authors(self, story: Story) -> list[str]:
        return story_authors(story)

    @extend_schema_field(CorrectionSerializer(many=True))
    def get_corrections(self, story: Story) -> list[dict]:
        return [
            {
                "number": correction.number,
                "kind": correction.kind,
                "note": correction.note,
                "date": serializers.DateTimeField().to_representation(correction.created_at),
            }
            for correction in _public_record(story)["corrections"]
        ]

    @extend_schema_field(NoticeSerializer(allow_null=True))
    def get_notice(self, story: Story) -> dict | None:
        withdrawn = _public_record(story)["withdrawn"]
        if withdrawn is None:
            return None
        return {
            "kind": withdrawn["kind"],
            "date": serializers.DateTimeField().to_representation(withdrawn["at"]),
            "text": "\n\n".join(fragment.text for fragment in withdrawn["note"]),
        }


def _public_record(story: Story) -> dict:
    """What readers are told about ``story`` since it went out (``story_record_apply``), worked
    out once per story for its two fields."""
    record = getattr(story, "_bell_public_record", None)
    if record is None:
        record = story._bell_public_record = story_record_apply({}, story)
    return record
