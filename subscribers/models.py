"""Subscribers, their subscriptions to newsletters, the suppression list and the event log.

The suppression list stands apart: it holds keyed hashes, not addresses, and no foreign key, so
it outlives an erased subscriber and still keeps a re-import or a sign-up from mailing them.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from issues.models import CorrectionNotice, Issue, Newsletter

from .addresses import EMAIL_MAX_LENGTH, NAME_MAX_LENGTH

# Ghost's limit for a member's note; the import refuses a longer one rather than cut it.
NOTE_MAX_LENGTH = 2000


class SubscriberStatus(models.TextChoices):
    PENDING = "pending", _("Pending confirmation")
    ACTIVE = "active", _("Active")
    UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
    BOUNCED = "bounced", _("Bounced")
    COMPLAINED = "complained", _("Complained")


class Tier(models.TextChoices):
    FREE = "free", _("Free")
    PAID = "paid", _("Paid")
    COMPLIMENTARY = "complimentary", _("Complimentary")


class ConsentMethod(models.TextChoices):
    DOUBLE_OPT_IN = "double_opt_in", _("Sign-up form, confirmed by email")
    IMPORT = "import", _("Imported with recorded consent")
    ADMIN = "admin", _("Added by staff")


class SubscriptionStatus(models.TextChoices):
    PENDING = "pending", _("Pending confirmation")
    ACTIVE = "active", _("Active")
    UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")


class SuppressionReason(models.TextChoices):
    HARD_BOUNCE = "hard_bounce", _("Hard bounce")
    SOFT_BOUNCES = "soft_bounces", _("Repeated soft bounces")
    COMPLAINT = "complaint", _("Spam complaint")
    ERASURE = "erasure", _("Erased at the subscriber's request")
    MANUAL = "manual", _("Added by staff")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    CLAIMED = "claimed", _("Claimed by a worker")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped")
    # Sent again after a worker died while this message was in flight: it may have arrived twice.
    UNCERTAIN = "uncertain", _("Sent, possibly twice")
    CANCELLED = "cancelled", _("Cancelled")


class DispatchState(models.TextChoices):
    RUNNING = "running", _("Sending")
    PAUSED = "paused", _("Paused")
    CANCELLED = "cancelled", _("Cancelled")
    FINISHED = "finished", _("Finished")


class MemberImportStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting for the worker")
    RUNNING = "running", _("Importing")
    DONE = "done", _("Done")
    REFUSED = "refused", _("Refused: nothing imported")


class SubscriberQuerySet(models.QuerySet):
    def mailable(self):
        """Subscribers who may receive an issue: active, with at least one active subscription."""
        return self.filter(status=SubscriberStatus.ACTIVE)

    def subscribed_to(self, newsletter):
        return self.mailable().filter(
            subscriptions__newsletter=newsletter,
            subscriptions__status=SubscriptionStatus.ACTIVE,
        )


class Subscriber(models.Model):
    Status = SubscriberStatus
    Tier = Tier

    public_id = models.UUIDField(
        _("public id"),
        default=uuid.uuid4,
        unique=True,
        editable=False,
        help_text=_("Named by signed links and Message-IDs instead of the address or row id."),
    )
    email = models.EmailField(
        _("email address"),
        max_length=EMAIL_MAX_LENGTH,
        unique=True,
        help_text=_("Stored lower-case, with an international domain in its ASCII form."),
    )
    name = models.CharField(_("name"), max_length=NAME_MAX_LENGTH, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    tier = models.CharField(_("tier"), max_length=20, choices=Tier.choices, default=Tier.FREE)
    consent_at = models.DateTimeField(
        _("consented at"), null=True, blank=True, help_text=_("When the person gave consent.")
    )
    consent_method = models.CharField(
        _("consent given by"), max_length=20, choices=ConsentMethod.choices, blank=True
    )
    consent_source = models.CharField(
        _("consent source"),
        max_length=200,
        blank=True,
        help_text=_("Which form or file recorded the consent, e.g. “sign-up: the-bell-weekly”."),
    )
    note = models.TextField(
        _("note"),
        blank=True,
        max_length=NOTE_MAX_LENGTH,
        help_text=_("As in Ghost, at most 2000 characters."),
    )
    labels = models.CharField(
        _("labels"), max_length=500, blank=True, help_text=_("Comma-separated, as in Ghost.")
    )
    stripe_customer_id = models.CharField(_("Stripe customer id"), max_length=100, blank=True)
    soft_bounces = models.PositiveSmallIntegerField(
        _("soft bounces in a row"),
        default=0,
        help_text=_("Reset by a delivery; the third in a row suppresses the address."),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = SubscriberQuerySet.as_manager()

    class Meta:
        verbose_name = _("subscriber")
        verbose_name_plural = _("subscribers")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=SubscriberStatus.values), name="subscriber_status_valid"
            ),
            models.CheckConstraint(condition=Q(tier__in=Tier.values), name="subscriber_tier_valid"),
            models.CheckConstraint(
                condition=Q(consent_method__in=[*ConsentMethod.values, ""]),
                name="subscriber_consent_method_valid",
            ),
            # Nobody is mailed an issue without a record of when and how they agreed.
            models.CheckConstraint(
                condition=~Q(status=SubscriberStatus.ACTIVE)
                | (Q(consent_at__isnull=False) & ~Q(consent_method="")),
                name="subscriber_active_has_consent",
            ),
            models.CheckConstraint(condition=~Q(email=""), name="subscriber_email_not_empty"),
            models.CheckConstraint(
                condition=Q(email=models.functions.Lower("email")),
                name="subscriber_email_lower_case",
            ),
        ]

    def __str__(self):
        return self.email


class Subscription(models.Model):
    Status = SubscriptionStatus

    subscriber = models.ForeignKey(
        Subscriber,
        verbose_name=_("subscriber"),
        on_delete=models.CASCADE,
        related_name="subscriptions",
    )
    newsletter = models.ForeignKey(
        Newsletter,
        verbose_name=_("newsletter"),
        on_delete=models.CASCADE,
        related_name="subscriptions",
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    unsubscribed_at = models.DateTimeField(_("unsubscribed"), null=True, blank=True)

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        ordering = ["newsletter", "subscriber"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscriber", "newsletter"], name="subscription_unique_per_newsletter"
            ),
            models.CheckConstraint(
                condition=Q(status__in=SubscriptionStatus.values),
                name="subscription_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status=SubscriptionStatus.UNSUBSCRIBED)
                | Q(unsubscribed_at__isnull=False),
                name="subscription_unsubscribed_has_time",
            ),
        ]

    def __str__(self):
        return f"{self.subscriber} → {self.newsletter}"


class Suppression(models.Model):
    """An address that must never be mailed again, kept as a keyed hash (see ``addresses``).

    Staff lift one when the person asks to come back; it stays until that person's own
    confirmed sign-up removes it, so that no file or admin form brings the address back first.
    """

    Reason = SuppressionReason

    address_hash = models.CharField(_("address hash"), max_length=64, unique=True, editable=False)
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    created_at = models.DateTimeField(_("suppressed at"), default=timezone.now)
    lifted_at = models.DateTimeField(
        _("lifted at"),
        null=True,
        blank=True,
        help_text=_(
            "Lifted by staff at the person's request: their own sign-up, confirmed by email, "
            "may bring the address back; imports and the admin still may not."
        ),
    )

    class Meta:
        verbose_name = _("suppression")
        verbose_name_plural = _("suppressions")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(reason__in=SuppressionReason.values), name="suppression_reason_valid"
            ),
            models.CheckConstraint(
                condition=Q(address_hash__regex=r"^[0-9a-f]{64}$"),
                name="suppression_hash_is_hex_sha256",
            ),
        ]

    def __str__(self):
        return f"{self.get_reason_display()} · {self.address_hash[:12]}…"


class SubscriberEvent(models.Model):
    """What happened to a subscriber, and how. Append-only; erased with the subscriber."""

    subscriber = models.ForeignKey(
        Subscriber, verbose_name=_("subscriber"), on_delete=models.CASCADE, related_name="events"
    )
    action = models.CharField(_("action"), max_length=30)
    newsletter = models.ForeignKey(
        Newsletter,
        verbose_name=_("newsletter"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    detail = models.CharField(_("detail"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("subscriber event")
        verbose_name_plural = _("subscriber events")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return self.action


class SignupAttempt(models.Model):
    """A sign-up as the form received it, waiting for the worker (``signup_attempt_process``).

    The public form only stores this row and queues its id, whatever the address, so that the
    answer's timing and work tell nothing about it. The worker decides and deletes the row;
    rows a lost task left behind are deleted after a day.
    """

    email = models.CharField(_("email address"), max_length=EMAIL_MAX_LENGTH)
    name = models.CharField(_("name"), max_length=NAME_MAX_LENGTH, blank=True)
    newsletter = models.ForeignKey(
        Newsletter, verbose_name=_("newsletter"), on_delete=models.CASCADE, related_name="+"
    )
    form = models.CharField(_("form"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("received"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("sign-up attempt")
        verbose_name_plural = _("sign-up attempts")

    def __str__(self):
        return f"sign-up attempt {self.pk}"


class Delivery(models.Model):
    """One issue, or one correction notice, to one subscriber: the audience snapshot taken
    when the issue was published (the notice made).

    Unique per (issue, subscriber) and per (notice, subscriber) in the database, so no code
    path can mail anyone twice.
    """

    Status = DeliveryStatus

    issue = models.ForeignKey(
        Issue,
        verbose_name=_("issue"),
        on_delete=models.PROTECT,
        related_name="deliveries",
        # Empty for a notice's row.
        null=True,
        blank=True,
        # The unique (issue, subscriber) and the (issue, status, id) indexes start with it; a
        # third would only cost every recorded outcome one more index write.
        db_index=False,
    )
    notice = models.ForeignKey(
        CorrectionNotice,
        verbose_name=_("correction notice"),
        on_delete=models.PROTECT,
        related_name="deliveries",
        null=True,
        blank=True,
        db_index=False,
    )
    subscriber = models.ForeignKey(
        Subscriber,
        verbose_name=_("subscriber"),
        # Erasure deletes the subscriber; their deliveries stay, pointing at no one, so an
        # issue's counts still add up to its audience. A row names nobody without its
        # subscriber (its Message-ID holds a random id that then matches no row).
        on_delete=models.SET_NULL,
        null=True,
        related_name="deliveries",
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    claimed_until = models.DateTimeField(
        _("claimed until"),
        null=True,
        blank=True,
        help_text=_("A claimed row whose lease ran out (its worker died) is claimed again."),
    )
    claim = models.UUIDField(
        _("claim"),
        null=True,
        blank=True,
        help_text=_("The batch that claimed the row; a dead worker's batch is recovered as one."),
    )
    in_flight_at_crash = models.BooleanField(
        _("in flight at a crash"),
        default=False,
        help_text=_("The message a dead worker may have been sending: once sent, it is uncertain."),
    )
    next_attempt_at = models.DateTimeField(
        _("next attempt at"),
        null=True,
        blank=True,
        help_text=_("After a temporary failure, not tried again before this time."),
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    message_id = models.CharField(_("Message-ID"), max_length=255, blank=True)
    smtp_response = models.CharField(
        _("SMTP response"), max_length=500, blank=True, help_text=_("The server's last answer.")
    )
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["issue", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["issue", "subscriber"], name="delivery_unique_per_issue_subscriber"
            ),
            models.UniqueConstraint(
                fields=["notice", "subscriber"], name="delivery_unique_per_notice_subscriber"
            ),
            models.CheckConstraint(
                condition=Q(status__in=DeliveryStatus.values), name="delivery_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(issue__isnull=False, notice__isnull=True)
                | Q(issue__isnull=True, notice__isnull=False),
                name="delivery_of_an_issue_or_a_notice",
            ),
        ]
        # Claims take an issue's pending rows in id order, LIMIT a batch: the index gives them
        # in that order, so a claim reads a batch, not the whole audience.
        # A batch's rows are found by its claim (read, renewed, released); only rows in a batch
        # have one, so that index holds the batches in flight, not every delivery ever made.
        indexes = [
            models.Index(fields=["issue", "status", "id"], name="delivery_issue_status_id_idx"),
            models.Index(
                fields=["notice", "status", "id"],
                condition=Q(notice__isnull=False),
                name="delivery_notice_status_id_idx",
            ),
            models.Index(
                fields=["claim"], condition=Q(claim__isnull=False), name="delivery_claim_idx"
            ),
        ]

    def __str__(self):
        return f"{self.issue or self.notice} → {self.subscriber} ({self.get_status_display()})"


class Dispatch(models.Model):
    """The sending of one published issue, or of one correction notice: its audience size and
    whether it may go on.

    Created with the audience snapshot. Editors pause, resume and cancel an issue's; batch
    tasks read its state before every batch they claim.
    """

    State = DispatchState

    issue = models.OneToOneField(
        Issue,
        verbose_name=_("issue"),
        on_delete=models.PROTECT,
        related_name="dispatch",
        null=True,
        blank=True,
    )
    notice = models.OneToOneField(
        CorrectionNotice,
        verbose_name=_("correction notice"),
        on_delete=models.PROTECT,
        related_name="dispatch",
        null=True,
        blank=True,
    )
    audience = models.PositiveIntegerField(
        _("audience"), help_text=_("Deliveries created by the snapshot when it was published.")
    )
    state = models.CharField(
        _("state"), max_length=20, choices=State.choices, default=State.RUNNING
    )
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    last_active_at = models.DateTimeField(
        _("last active"),
        null=True,
        blank=True,
        help_text=_(
            "When a batch was last claimed or tasks queued; the scheduler wakes a sending "
            "that has been quiet for longer."
        ),
    )
    last_error = models.CharField(
        _("last error"),
        max_length=500,
        blank=True,
        help_text=_("Why sending last stopped for a while (the mail server down, say)."),
    )
    state_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("state changed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    state_changed_at = models.DateTimeField(_("state changed"), null=True, blank=True)

    class Meta:
        verbose_name = _("dispatch")
        verbose_name_plural = _("dispatches")
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=DispatchState.values), name="dispatch_state_valid"
            ),
            models.CheckConstraint(
                condition=Q(issue__isnull=False, notice__isnull=True)
                | Q(issue__isnull=True, notice__isnull=False),
                name="dispatch_of_an_issue_or_a_notice",
            ),
        ]

    def __str__(self):
        return f"{self.issue or self.notice} ({self.get_state_display()})"


class SendingConnection(models.Model):
    """One connection's part in a sending: what it sent, how fast, and what went wrong.

    Each connection of each worker process (``host:pid #n``) adds to its row after every batch
    and every failure, so the sending page and ``dispatch_status`` show per connection and per
    relay rates without a task or a row per message.
    """

    dispatch = models.ForeignKey(
        Dispatch,
        verbose_name=_("sending"),
        on_delete=models.CASCADE,
        related_name="connections",
    )
    name = models.CharField(_("connection"), max_length=120)
    relay = models.CharField(_("relay"), max_length=200)
    sent = models.PositiveIntegerField(_("sent"), default=0)
    refused = models.PositiveIntegerField(
        _("refused"), default=0, help_text=_("Messages the server refused, for now or for good.")
    )
    failures = models.PositiveIntegerField(
        _("failures"),
        default=0,
        help_text=_("Times the connection failed (lost, refused, 421) and gave its batch back."),
    )
    rate = models.FloatField(
        _("rate"), null=True, blank=True, help_text=_("Messages a second over its last batch.")
    )
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("sending connection")
        verbose_name_plural = _("sending connections")
        constraints = [
            models.UniqueConstraint(
                fields=["dispatch", "name"], name="sending_connection_unique_name"
            ),
        ]

    def __str__(self):
        return self.name


class MemberImport(models.Model):
    """A members file uploaded in the admin, and what importing it did.

    The worker imports it with the same service as ``manage.py import_subscribers``. The file
    (addresses, names) is kept only until the worker has read it; the report stays.
    """

    Status = MemberImportStatus

    newsletter = models.ForeignKey(
        Newsletter, verbose_name=_("newsletter"), on_delete=models.CASCADE, related_name="+"
    )
    filename = models.CharField(_("file name"), max_length=200)
    size = models.PositiveBigIntegerField(_("size in bytes"))
    data = models.BinaryField(
        _("file"), blank=True, editable=False, help_text=_("Emptied once the file is imported.")
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.QUEUED
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("uploaded"), default=timezone.now)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    imported = models.PositiveIntegerField(_("new subscribers"), default=0)
    active = models.PositiveIntegerField(_("of them active"), default=0)
    subscribed = models.PositiveIntegerField(_("existing subscribers subscribed"), default=0)
    skipped = models.JSONField(
        _("rows skipped, by reason"), default=dict, blank=True, help_text=_("{reason: count}")
    )
    problems = models.JSONField(
        _("rows skipped"), default=list, blank=True, help_text=_("The first ones, by line.")
    )
    problem_count = models.PositiveIntegerField(_("rows skipped"), default=0)
    ignored_columns = models.JSONField(_("columns not read"), default=list, blank=True)
    error = models.TextField(_("why the file was refused"), blank=True)

    class Meta:
        verbose_name = _("members import")
        verbose_name_plural = _("members imports")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=MemberImportStatus.values),
                name="member_import_status_valid",
            ),
        ]

    def __str__(self):
        return f"{self.filename} ({self.get_status_display()})"
