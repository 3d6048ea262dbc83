"""Anonymous sources: what the newsroom may know of them, and, sealed, who they are.

``Source`` and its descriptors are the public record (versioned, seen by every journalist and
editor). ``SourceIdentity`` holds the identity only as ciphertext (``sources.crypto``), is never
versioned, and is read only through ``sources.services.identity_reveal``, which writes a
``RevealEvent`` first. ``RevealEvent`` rows cannot be changed or deleted, not even in the
database (a trigger refuses it).
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from issues.people import person_name


class SourceBasis(models.TextChoices):
    PARTICIPANT = "participant", _("Participant: took part in what they describe")
    WITNESS = "witness", _("Witness: saw or heard it")
    DOCUMENTS = "documents", _("Documents: has seen the papers")
    SECOND_HAND = "second_hand", _("Second-hand: was told by someone who knows")


class SourceReliability(models.TextChoices):
    PROVEN = "proven", _("Proven: earlier information confirmed")
    USUALLY = "usually", _("Usually reliable")
    UNTESTED = "untested", _("Untested: nothing confirmed yet")
    DOUBTFUL = "doubtful", _("Doubtful")


class SourceStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    UNDER_REVIEW = "under_review", _("Under review")
    BURNED = "burned", _("Burned")
    RETIRED = "retired", _("Retired")


class ContactChannel(models.TextChoices):
    IN_PERSON = "in_person", _("In person")
    PHONE = "phone", _("Phone")
    MESSENGER = "messenger", _("Encrypted messenger")
    EMAIL = "email", _("Email")
    OTHER = "other", _("Other")


class Source(models.Model):
    """An anonymous source as the newsroom may know it: never who they are."""

    Basis = SourceBasis
    Reliability = SourceReliability
    Status = SourceStatus

    codename = models.CharField(
        _("codename"),
        max_length=100,
        unique=True,
        help_text=_("How the newsroom names the source. Never printed."),
    )
    basis = models.CharField(
        _("basis"),
        max_length=20,
        choices=Basis.choices,
        help_text=_("How the source knows what they tell."),
    )
    reliability = models.CharField(
        _("reliability"), max_length=20, choices=Reliability.choices, default=Reliability.UNTESTED
    )
    motive = models.TextField(_("motive"), help_text=_("Why the source talks to us."))
    anonymity_reason = models.TextField(
        _("reason for anonymity"),
        help_text=_(
            "What the source risks if named, in your words: “requested anonymity” alone is not "
            "a reason."
        ),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.ACTIVE, editable=False
    )
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handler"),
        on_delete=models.PROTECT,
        related_name="handled_sources",
        help_text=_("The journalist who brought the source."),
    )
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("verified by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="verified_sources",
        help_text=_("The editor, not the handler, who knows who the source is."),
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True, editable=False)
    revision = models.PositiveIntegerField(_("revision"), default=1, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("source")
        verbose_name_plural = _("sources")
        ordering = ["codename"]
        constraints = [
            models.CheckConstraint(
                condition=Q(basis__in=SourceBasis.values), name="source_basis_valid"
            ),
            models.CheckConstraint(
                condition=Q(reliability__in=SourceReliability.values),
                name="source_reliability_valid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=SourceStatus.values), name="source_status_valid"
            ),
            # Two people know every source: the one who brought it and an editor who checked.
            models.CheckConstraint(
                condition=Q(verified_by__isnull=True) | ~Q(verified_by=F("handler")),
                name="source_verified_by_not_handler",
            ),
            models.CheckConstraint(condition=~Q(codename=""), name="source_codename_not_empty"),
            # KESTREL and Kestrel are one source: the newsroom says codenames aloud.
            models.UniqueConstraint(Upper("codename"), name="source_codename_unique_any_case"),
        ]
        permissions = [
            ("grant_access", _("Can grant and revoke access to source identities")),
            ("verify_source", _("Can verify sources")),
        ]

    def __str__(self):
        return self.codename


class Descriptor(models.Model):
    """A description of the source approved for print, e.g. “a source close to the Kremlin”."""

    source = models.ForeignKey(
        Source, verbose_name=_("source"), on_delete=models.CASCADE, related_name="descriptors"
    )
    text = models.CharField(_("text"), max_length=200)
    plural = models.BooleanField(
        _("plural"),
        default=False,
        help_text=_("Speaks of more than one person (“sources say”): needs two sources."),
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The editor who agreed that print may describe the source so."),
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("descriptor")
        verbose_name_plural = _("descriptors")
        ordering = ["source", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["source", "text"], name="descriptor_unique_per_source"),
            models.CheckConstraint(condition=~Q(text=""), name="descriptor_text_not_empty"),
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True, approved_at__isnull=True)
                | Q(approved_by__isnull=False, approved_at__isnull=False),
                name="descriptor_approval_whole",
            ),
        ]

    def __str__(self):
        return self.text


class SourceIdentity(models.Model):
    """Who the source is, sealed: each field AES-GCM under the source's data key, which is kept
    only wrapped by the master key. Never versioned, listed, searched or exported."""

    source = models.OneToOneField(
        Source,
        verbose_name=_("source"),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="identity",
    )
    wrapped_key = models.BinaryField(_("wrapped data key"))
    name = models.BinaryField(_("name (sealed)"))
    position = models.BinaryField(_("position (sealed)"))
    contacts = models.BinaryField(_("contact channels (sealed)"))
    notes = models.BinaryField(_("notes (sealed)"))
    sealed_at = models.DateTimeField(_("sealed at"), default=timezone.now)

    SEALED_FIELDS = ("name", "position", "contacts", "notes")

    class Meta:
        verbose_name = _("source identity")
        verbose_name_plural = _("source identities")

    def __str__(self):
        return f"identity of {self.source_id}"

    def __repr__(self):
        return f"<SourceIdentity of source {self.source_id}: sealed>"


class IdentityDigest(models.Model):
    """A blind index entry (``sources.matching``): equal digests, probably the same person."""

    source = models.ForeignKey(
        Source, verbose_name=_("source"), on_delete=models.CASCADE, related_name="digests"
    )
    kind = models.CharField(_("kind"), max_length=10)
    digest = models.CharField(_("digest"), max_length=64, db_index=True)

    class Meta:
        verbose_name = _("identity digest")
        verbose_name_plural = _("identity digests")
        constraints = [
            models.UniqueConstraint(
                fields=["source", "kind", "digest"], name="identity_digest_unique"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["name", "contact"]), name="identity_digest_kind_valid"
            ),
        ]

    def __str__(self):
        return f"{self.kind} digest of source {self.source_id}"


class ContactLogEntry(models.Model):
    """That the handler spoke with the source: the day, the channel type and a note. Never the
    number, address or place."""

    source = models.ForeignKey(
        Source, verbose_name=_("source"), on_delete=models.CASCADE, related_name="contacts"
    )
    day = models.DateField(_("day"))
    channel = models.CharField(_("channel"), max_length=20, choices=ContactChannel.choices)
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("logged by"),
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(_("logged at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contact log")
        ordering = ["-day", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(channel__in=ContactChannel.values), name="contact_channel_valid"
            ),
        ]

    def __str__(self):
        return f"{self.day}: {self.get_channel_display()}"


class AccessGrantQuerySet(models.QuerySet):
    def in_force(self, at=None):
        """Grants that let their user reveal now: not revoked, not expired."""
        return self.filter(revoked_at__isnull=True, expires_at__gt=at or timezone.now())


class AccessGrant(models.Model):
    """A keeper's permission for one person to reveal one source's identity, until it expires."""

    source = models.ForeignKey(
        Source, verbose_name=_("source"), on_delete=models.PROTECT, related_name="grants"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.PROTECT,
        related_name="source_grants",
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("granted by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.TextField(_("reason"))
    created_at = models.DateTimeField(_("granted at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("revoked by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = AccessGrantQuerySet.as_manager()

    class Meta:
        verbose_name = _("access grant")
        verbose_name_plural = _("access grants")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("created_at")), name="access_grant_expires_later"
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="access_grant_has_reason"),
        ]

    def __str__(self):
        return f"{person_name(self.user)} → {self.source}"


class RevealOutcome(models.TextChoices):
    REVEALED = "revealed", _("Revealed")
    REFUSED = "refused", _("Refused")


class RevealEvent(models.Model):
    """One attempt to read an identity, written before anything is decrypted. Append-only:
    the admin offers no change or delete, and the database refuses both."""

    Outcome = RevealOutcome

    source = models.ForeignKey(
        Source, verbose_name=_("source"), on_delete=models.PROTECT, related_name="reveals"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.PROTECT,
        related_name="source_reveals",
    )
    reason = models.TextField(_("reason given"), blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    refusal = models.CharField(_("why refused"), max_length=200, blank=True)
    grant = models.ForeignKey(
        AccessGrant,
        verbose_name=_("grant"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reveals",
    )
    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("reveal")
        verbose_name_plural = _("reveal log")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome__in=RevealOutcome.values), name="reveal_outcome_valid"
            ),
            models.CheckConstraint(
                condition=Q(outcome=RevealOutcome.REFUSED) | Q(grant__isnull=False),
                name="reveal_revealed_has_grant",
            ),
        ]

    def __str__(self):
        return f"{self.get_outcome_display()}: {person_name(self.user)} → {self.source}"


class Citation(models.Model):
    """A block's claim rests on these sources, described in print as ``descriptor`` (one of
    their approved descriptions). A plural description needs two different sources."""

    block = models.ForeignKey(
        "issues.Block", verbose_name=_("block"), on_delete=models.CASCADE, related_name="citations"
    )
    sources = models.ManyToManyField(Source, verbose_name=_("sources"), related_name="citations")
    descriptor = models.CharField(_("description in print"), max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("cited by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("cited at"), default=timezone.now)

    class Meta:
        verbose_name = _("citation")
        verbose_name_plural = _("citations")
        ordering = ["block", "pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(descriptor=""), name="citation_has_descriptor"),
        ]

    def __str__(self):
        return self.descriptor


class OnRecord(models.Model):
    """A block that attributes to someone named, or to a document: it needs no anonymous
    source, and the note says why."""

    block = models.OneToOneField(
        "issues.Block", verbose_name=_("block"), on_delete=models.CASCADE, related_name="on_record"
    )
    note = models.TextField(_("why it is on the record"))
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("marked by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    marked_at = models.DateTimeField(_("marked at"), default=timezone.now)

    class Meta:
        verbose_name = _("on the record")
        verbose_name_plural = _("on the record")
        constraints = [
            models.CheckConstraint(condition=~Q(note=""), name="on_record_has_note"),
        ]

    def __str__(self):
        return self.note[:60]


class StoryFlag(models.Model):
    """A story cites a source that was put under review or burned: its approval waits until an
    editor has looked again and cleared the flag, saying why."""

    story = models.ForeignKey(
        "issues.Story",
        verbose_name=_("story"),
        on_delete=models.CASCADE,
        related_name="source_flags",
    )
    source = models.ForeignKey(
        Source, verbose_name=_("source"), on_delete=models.PROTECT, related_name="story_flags"
    )
    source_status = models.CharField(
        _("source status"), max_length=20, choices=SourceStatus.choices
    )
    reason = models.TextField(_("why the source is in doubt"))
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("raised by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    raised_at = models.DateTimeField(_("raised at"), default=timezone.now)
    cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("cleared by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    cleared_at = models.DateTimeField(_("cleared at"), null=True, blank=True)
    clear_note = models.TextField(_("why it may go on"), blank=True)

    class Meta:
        verbose_name = _("story flag")
        verbose_name_plural = _("story flags")
        ordering = ["-raised_at", "-pk"]
        constraints = [
            # One open flag per story and source; a cleared one stays as the record.
            models.UniqueConstraint(
                fields=["story", "source"],
                condition=Q(cleared_at__isnull=True),
                name="story_flag_one_open_per_source",
            ),
            models.CheckConstraint(
                condition=Q(cleared_at__isnull=True) | ~Q(clear_note=""),
                name="story_flag_cleared_with_note",
            ),
        ]

    def __str__(self):
        return f"{self.source} ({self.get_source_status_display()}) in {self.story}"


class Verdict(models.TextChoices):
    VERIFIED = "verified", _("Verified: it holds")
    UNVERIFIABLE = "unverifiable", _("Unverifiable: cannot be confirmed")
    SOURCE_DENIES = "source_denies", _("Source denies it")
    FABRICATED = "fabricated", _("Fabricated")


class StoryVerdict(models.Model):
    """An editor's finding on a story in a fallout review (``sources.fallout``): whether it
    holds now that a contributor or a source is in doubt. Added, never edited: the newest is
    the story's verdict, the earlier ones stay as the record. Inside the newsroom only."""

    Kind = Verdict

    story = models.ForeignKey(
        "issues.Story",
        verbose_name=_("story"),
        on_delete=models.CASCADE,
        related_name="verdicts",
    )
    verdict = models.CharField(_("verdict"), max_length=20, choices=Verdict.choices)
    note = models.TextField(_("what the editor found"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), default=timezone.now)

    class Meta:
        verbose_name = _("story verdict")
        verbose_name_plural = _("story verdicts")
        ordering = ["-decided_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(verdict__in=Verdict.values), name="story_verdict_valid"
            ),
            models.CheckConstraint(condition=~Q(note=""), name="story_verdict_has_note"),
        ]

    def __str__(self):
        return f"{self.get_verdict_display()}: {self.story}"
