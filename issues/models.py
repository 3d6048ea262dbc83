"""Newsletters, issues, stories and their ordered blocks.

A story's body is one ordered list of blocks (sub-headings, paragraphs and bullet points), because
in a real issue bullet points sit between paragraphs and the order must survive a round trip.
Block text is inline Markdown: links and emphasis only (see ``issues.rendering``).
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .slugs import OUT_STATES, slug_base, unique_slug


class IssueStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    APPROVED = "approved", _("Approved")
    SCHEDULED = "scheduled", _("Scheduled")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    CORRECTED = "corrected", _("Corrected")
    RETRACTED = "retracted", _("Retracted")


class StoryStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    RETURNED = "returned", _("Returned")
    APPROVED = "approved", _("Approved")


class BlockKind(models.TextChoices):
    HEADING = "heading", _("Sub-heading")
    PARAGRAPH = "paragraph", _("Paragraph")
    BULLET = "bullet", _("Bullet point")


# Phrases by which a story attributes a claim to the newsroom's own anonymous source: a block
# saying one must cite that source (issues.attribution). Apostrophes, case and spacing are
# matched loosely, so each phrase is written once, the way an editor would type it.
DEFAULT_ATTRIBUTION_PATTERNS = (
    "told The Bell",
    "a source told The Bell",
    "sources told The Bell",
    "The Bell's source",
    "The Bell's sources",
    "according to The Bell's source",
    "according to sources",
    "sources say",
    "sources said",
)


def validate_mirror_urls(value: str) -> None:
    """Each non-empty line an http(s) address: readers are sent there when the site is blocked."""
    check = URLValidator(schemes=["https", "http"])
    for number, line in enumerate(value.splitlines(), start=1):
        if line.strip():
            try:
                check(line.strip())
            except ValidationError:
                raise ValidationError(
                    _("Line %(number)s is not a web address (https://…): %(line)s"),
                    code="invalid",
                    params={"number": number, "line": line.strip()[:100]},
                ) from None


class NewsletterLanguage(models.TextChoices):
    """The language a newsletter is written in: its pages' lang, its feeds and its search."""

    ENGLISH = "en", _("English")
    RUSSIAN = "ru", _("Russian")


class Newsletter(models.Model):
    Language = NewsletterLanguage

    name = models.CharField(_("name"), max_length=200, unique=True)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    kicker = models.CharField(
        _("kicker"),
        max_length=100,
        help_text=_("Printed before every issue title, e.g. “THE BELL WEEKLY”."),
    )
    sender_name = models.CharField(_("sender name"), max_length=200, blank=True)
    sender_email = models.EmailField(_("sender address"), blank=True)
    takeaway_label = models.CharField(
        _("takeaway label"),
        max_length=100,
        default="Why the world should care",
        help_text=_("The heading of each story's takeaway, without the colon."),
    )
    language = models.CharField(
        _("language"),
        max_length=10,
        choices=NewsletterLanguage.choices,
        default=NewsletterLanguage.ENGLISH,
        help_text=_("What the issues are written in: search in the archive stems words by it."),
    )
    mirror_urls = models.TextField(
        _("mirror addresses"),
        blank=True,
        validators=[validate_mirror_urls],
        help_text=_(
            "One address a line (https://…), where readers find the archive when this site is "
            "blocked. Shown at the foot of every archive page and every email."
        ),
    )
    default_author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("default author"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Author of imported stories when the import names none."),
    )
    attribution_patterns = models.TextField(
        _("attribution patterns"),
        blank=True,
        default="\n".join(DEFAULT_ATTRIBUTION_PATTERNS),
        help_text=_(
            "One phrase a line, e.g. “told The Bell”. A paragraph or bullet point containing one "
            "attributes a claim to a source: the story cannot be submitted or approved until "
            "that block cites the source or is marked on the record. Case, curly or straight "
            "apostrophes and quotes, spacing and Markdown emphasis make no difference. Lines "
            "starting with # are notes. Left empty, nothing is checked."
        ),
    )

    class Meta:
        verbose_name = _("newsletter")
        verbose_name_plural = _("newsletters")
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def mirrors(self) -> list[str]:
        return [line.strip() for line in self.mirror_urls.splitlines() if line.strip()]


class IssueQuerySet(models.QuerySet):
    def published(self):
        """Issues readers may see: gone out and published by now.

        A retracted issue stays: its address shows the retraction notes, never a 404.
        """
        return self.filter(
            status__in=[
                IssueStatus.SENDING,
                IssueStatus.SENT,
                IssueStatus.CORRECTED,
                IssueStatus.RETRACTED,
            ],
            published_at__isnull=False,
            published_at__lte=timezone.now(),
        )

    def due(self, now):
        """Scheduled issues whose time has come by ``now``: the scheduler's pass publishes
        them."""
        return self.filter(status=IssueStatus.SCHEDULED, publish_at__lte=now)

    def with_stories(self):
        """With stories, their blocks and their public record (corrections, withdrawals)."""
        return self.prefetch_related(
            models.Prefetch("stories", queryset=Story.objects.order_by("position")),
            models.Prefetch("stories__blocks", queryset=Block.objects.order_by("position")),
            *story_record_prefetches("stories__"),
        )


def story_record_prefetches(prefix: str = "") -> list[models.Prefetch]:
    """What readers are told about stories since they went out: their corrections, newest
    first, and the withdrawals carried out (``Correction`` and ``Withdrawal`` are below)."""
    return [
        models.Prefetch(f"{prefix}corrections", queryset=Correction.objects.order_by("-number")),
        models.Prefetch(
            f"{prefix}withdrawals",
            queryset=Withdrawal.objects.carried_out().order_by("approved_at"),
        ),
    ]


class Issue(models.Model):
    Status = IssueStatus

    newsletter = models.ForeignKey(
        Newsletter, verbose_name=_("newsletter"), on_delete=models.PROTECT, related_name="issues"
    )
    number = models.PositiveIntegerField(_("number"))
    title = models.CharField(_("title"), max_length=300)
    slug = models.SlugField(_("slug"), max_length=300)
    intro = models.TextField(
        _("intro"), blank=True, help_text=_("The greeting, e.g. “Hello! This week we cover…”.")
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT, editable=False
    )
    publish_at = models.DateTimeField(_("publish at"), null=True, blank=True, editable=False)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True, editable=False)
    revision = models.PositiveIntegerField(
        _("revision"),
        default=1,
        editable=False,
        help_text=_(
            "Goes up by one whenever the issue's text, its stories or their order, or its "
            "schedule change."
        ),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = IssueQuerySet.as_manager()

    class Meta:
        verbose_name = _("issue")
        verbose_name_plural = _("issues")
        ordering = ["newsletter", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["newsletter", "number"], name="issue_number_unique_per_newsletter"
            ),
            models.UniqueConstraint(
                fields=["newsletter", "slug"], name="issue_slug_unique_per_newsletter"
            ),
            models.CheckConstraint(condition=Q(number__gte=1), name="issue_number_positive"),
            models.CheckConstraint(
                condition=Q(status__in=IssueStatus.values), name="issue_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status=IssueStatus.SCHEDULED) | Q(publish_at__isnull=False),
                name="issue_scheduled_has_publish_at",
            ),
        ]
        permissions = [
            ("approve_issue", _("Can approve issues")),
            ("schedule_issue", _("Can schedule and unschedule issues")),
        ]

    def __str__(self):
        return f"#{self.number} {self.title}"

    @property
    def subject(self):
        return f"{self.newsletter.kicker}: {self.title}"


class Story(models.Model):
    Status = StoryStatus

    issue = models.ForeignKey(
        Issue,
        verbose_name=_("issue"),
        on_delete=models.SET_NULL,
        related_name="stories",
        null=True,
        blank=True,
        help_text=_("Empty while the story is not yet placed in an issue."),
    )
    position = models.PositiveIntegerField(
        _("position"), null=True, blank=True, help_text=_("Order of the story in its issue.")
    )
    headline = models.CharField(_("headline"), max_length=300)
    slug = models.SlugField(
        _("address"),
        max_length=120,
        allow_unicode=True,
        blank=True,
        help_text=_(
            "The story's address in the archive, made from the headline until the issue is "
            "published and kept from then on. Changed after publication, the old address "
            "redirects to the new one."
        ),
    )
    authors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("authors"), related_name="stories", blank=True
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT, editable=False
    )
    takeaway = models.TextField(
        _("takeaway"),
        blank=True,
        help_text=_("Closes the story under the newsletter's takeaway label."),
    )
    revision = models.PositiveIntegerField(
        _("revision"), default=1, editable=False, help_text=_("Goes up by one on every save.")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("story")
        verbose_name_plural = _("stories")
        ordering = ["issue", "position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["issue", "position"], name="story_position_unique_per_issue"
            ),
            models.UniqueConstraint(
                fields=["issue", "slug"],
                condition=~Q(slug=""),
                name="story_slug_unique_per_issue",
            ),
            models.CheckConstraint(
                condition=Q(issue__isnull=True) | Q(position__isnull=False),
                name="story_in_issue_has_position",
            ),
            models.CheckConstraint(
                condition=Q(status__in=StoryStatus.values), name="story_status_valid"
            ),
        ]
        permissions = [
            ("approve_story", _("Can approve stories and return them to authors")),
            ("correct_story", _("Can correct and retract published stories")),
        ]

    def __str__(self):
        return self.headline

    def save(self, *args, **kwargs):
        update_fields = kwargs.get("update_fields")
        if update_fields is None or {"headline", "issue", "slug"} & set(update_fields):
            self._slug_refresh()
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "slug"}
        super().save(*args, **kwargs)

    def _slug_refresh(self) -> None:
        """The slug from the headline, unless the issue has gone out: then it is kept."""
        gone_out = Issue.objects.filter(pk=self.issue_id, status__in=OUT_STATES)
        if self.slug and self.issue_id and gone_out.exists():
            return
        taken = set()
        if self.issue_id:
            siblings = Story.objects.filter(issue_id=self.issue_id).exclude(pk=self.pk)
            taken = set(siblings.values_list("slug", flat=True))
        self.slug = unique_slug(slug_base(self.headline, fallback="story"), taken)


class Block(models.Model):
    Kind = BlockKind

    story = models.ForeignKey(
        Story, verbose_name=_("story"), on_delete=models.CASCADE, related_name="blocks"
    )
    position = models.PositiveIntegerField(_("position"))
    kind = models.CharField(
        _("kind"), max_length=20, choices=BlockKind.choices, default=BlockKind.PARAGRAPH
    )
    text = models.TextField(
        _("text"), help_text=_("Inline Markdown: [links](https://…), *emphasis* and **bold** only.")
    )

    class Meta:
        verbose_name = _("block")
        verbose_name_plural = _("blocks")
        ordering = ["story", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["story", "position"], name="block_position_unique_per_story"
            ),
            models.CheckConstraint(condition=Q(kind__in=BlockKind.values), name="block_kind_valid"),
            models.CheckConstraint(condition=~Q(text=""), name="block_text_not_empty"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.position}: {self.text[:60]}"


class BulletPointManager(models.Manager):
    def get_queryset(self):
        return super().get_queryset().filter(kind=Block.Kind.BULLET)


class BulletPoint(Block):
    """The bullet points of a story: blocks of kind bullet, kept in the one ordered list."""

    objects = BulletPointManager()

    class Meta:
        proxy = True
        verbose_name = _("bullet point")
        verbose_name_plural = _("bullet points")

    def save(self, *args, **kwargs):
        self.kind = Block.Kind.BULLET
        super().save(*args, **kwargs)


class WorkflowEvent(models.Model):
    """One step of the workflow: who moved what from which state to which, and why.

    Append-only. Rows point at their story or issue without a database constraint, so the
    record outlives a deleted story and joins it again when the story is recovered.
    """

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty when the system took the step (an edit, the scheduler)."),
    )
    action = models.CharField(_("action"), max_length=30)
    from_status = models.CharField(_("from"), max_length=20)
    to_status = models.CharField(_("to"), max_length=20)
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.action}: {self.from_status} → {self.to_status}"


class StoryEvent(WorkflowEvent):
    story = models.ForeignKey(
        Story,
        verbose_name=_("story"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="events",
    )
    revision = models.PositiveIntegerField(_("revision"))

    class Meta(WorkflowEvent.Meta):
        verbose_name = _("story event")
        verbose_name_plural = _("story events")


class IssueEvent(WorkflowEvent):
    issue = models.ForeignKey(
        Issue,
        verbose_name=_("issue"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="events",
    )
    publish_at = models.DateTimeField(_("publish at"), null=True, blank=True)

    class Meta(WorkflowEvent.Meta):
        verbose_name = _("issue event")
        verbose_name_plural = _("issue events")


class CorrectionKind(models.TextChoices):
    CORRECTION = "correction", _("Correction")
    CLARIFICATION = "clarification", _("Clarification")
    EDITORS_NOTE = "editors_note", _("Editor's note")


class Correction(models.Model):
    """A public correction of a published story: added, never edited or deleted in the app.

    Numbered per story. ``revision`` is the story's revision the correction relates to (the
    one readers got); when the text was fixed in the same step, ``fixed_revision`` is the new
    one, kept as a version in the story's history.
    """

    Kind = CorrectionKind

    story = models.ForeignKey(
        Story, verbose_name=_("story"), on_delete=models.PROTECT, related_name="corrections"
    )
    number = models.PositiveIntegerField(_("number"))
    kind = models.CharField(_("kind"), max_length=20, choices=CorrectionKind.choices)
    note = models.TextField(_("public note"), help_text=_("What was wrong, in readers' words."))
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    revision = models.PositiveIntegerField(_("relates to revision"))
    fixed_revision = models.PositiveIntegerField(_("text fixed in revision"), null=True, blank=True)
    created_at = models.DateTimeField(_("corrected on"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("correction")
        verbose_name_plural = _("corrections")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["story", "number"], name="correction_number_unique_per_story"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=CorrectionKind.values), name="correction_kind_valid"
            ),
            models.CheckConstraint(condition=~Q(note=""), name="correction_note_not_empty"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.number}: {self.story}"


class WithdrawalKind(models.TextChoices):
    RETRACTION = "retraction", _("Retraction")
    TAKEDOWN = "takedown", _("Legal or safety takedown")


class WithdrawalQuerySet(models.QuerySet):
    def carried_out(self):
        return self.filter(approved_at__isnull=False)

    def open(self):
        return self.filter(approved_at__isnull=True, cancelled_at__isnull=True)


class Withdrawal(models.Model):
    """A story taken back: requested by one editor, carried out by another.

    A retraction shows its public note where the story's body was; a takedown shows only a
    fixed line, and its note stays inside the newsroom. The story's text stays in its version
    history for editors.
    """

    Kind = WithdrawalKind

    story = models.ForeignKey(
        Story, verbose_name=_("story"), on_delete=models.PROTECT, related_name="withdrawals"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=WithdrawalKind.choices)
    note = models.TextField(
        _("note"),
        help_text=_(
            "A retraction's public editor's note; a takedown's reason, which is never shown."
        ),
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("requested"), default=timezone.now)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("carried out"), null=True, blank=True, db_index=True)
    cancelled_at = models.DateTimeField(_("request withdrawn"), null=True, blank=True)

    objects = WithdrawalQuerySet.as_manager()

    class Meta:
        verbose_name = _("retraction or takedown")
        verbose_name_plural = _("retractions and takedowns")
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=WithdrawalKind.values), name="withdrawal_kind_valid"
            ),
            models.CheckConstraint(condition=~Q(note=""), name="withdrawal_note_not_empty"),
            # The two-editor rule, held by the database too.
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True) | ~Q(approved_by=models.F("requested_by")),
                name="withdrawal_approved_by_another_editor",
            ),
            models.CheckConstraint(
                condition=Q(approved_at__isnull=True) | Q(approved_by__isnull=False),
                name="withdrawal_carried_out_has_approver",
            ),
            models.UniqueConstraint(
                fields=["story", "kind"],
                condition=Q(approved_at__isnull=True, cancelled_at__isnull=True),
                name="withdrawal_one_open_request_per_story_kind",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.story}"


class CorrectionNotice(models.Model):
    """An email telling the readers who got a story's issue of what changed on the story's
    record since (its corrections, its retraction or takedown), sent to exactly those readers
    by subscribers' dispatch (``issues.corrections.correction_notice_send``).

    It tells what was added to the record after ``since`` (the story's previous notice, if
    any) and up to ``created_at``: the record is added to, never changed, so a notice reads
    the same whenever it is rendered, and each entry is told once.
    """

    story = models.ForeignKey(
        Story, verbose_name=_("story"), on_delete=models.PROTECT, related_name="notices"
    )
    since = models.DateTimeField(_("tells what came after"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sent by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    sent_at = models.DateTimeField(
        _("sent"), null=True, blank=True, help_text=_("When its last message went out.")
    )

    class Meta:
        verbose_name = _("correction notice")
        verbose_name_plural = _("correction notices")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.story} ({self.created_at:%Y-%m-%d})"


class StoryDraft(models.Model):
    """What one person has typed in a story's editor and not saved yet.

    Written every few seconds while they type, so a reload or a crashed browser gives the text
    back. A draft is not a version: it changes nothing others see and it is gone once the story
    is saved. ``story`` is empty for a story that has not been saved for the first time.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="story_drafts",
    )
    story = models.ForeignKey(
        Story,
        verbose_name=_("story"),
        on_delete=models.CASCADE,
        related_name="drafts",
        null=True,
        blank=True,
    )
    base_revision = models.PositiveIntegerField(
        _("based on revision"),
        null=True,
        blank=True,
        help_text=_("The story's revision the editor was opened at."),
    )
    content = models.JSONField(_("content"), help_text=_("Headline, takeaway and blocks."))
    saved_at = models.DateTimeField(_("saved"), auto_now=True)

    class Meta:
        verbose_name = _("unsaved draft")
        verbose_name_plural = _("unsaved drafts")
        ordering = ["-saved_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "story"], name="story_draft_one_per_user"),
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(story__isnull=True),
                name="story_draft_one_new_per_user",
            ),
        ]

    def __str__(self):
        return f"{self.user} · {self.story or _('new story')}"
