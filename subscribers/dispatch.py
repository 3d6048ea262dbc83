"""Dispatch of published issues to subscribers: the audience snapshot, then batch sending.

Who receives an issue is decided once, when it is published: one ``Delivery`` row per
(issue, subscriber). Sending works from those rows, never from the live subscriber list:

1. ``issue_published`` (in the publishing transaction): the snapshot, a ``Dispatch`` row with
   the audience size, and batch tasks queued once that transaction commits (ids only).
2. A batch task (``subscribers.batches.dispatch_run``) claims up to ``DISPATCH_BATCH_SIZE``
   pending rows at a time (``SKIP LOCKED``, so tasks in other processes take other rows)
   under a lease, re-checks
   each subscriber (an unsubscribe or suppression since the snapshot skips the row), and sends
   them in id order over the process's one connection, recording each row's outcome as soon as
   the server answers. Tasks run until nothing is left or their time is up, then hand over.
3. A row still claimed after its lease ran out belongs to a worker that died. Its batch goes
   back to pending; its lowest row (the message that may have been in flight) is marked so
   that, once sent again, it is recorded as ``uncertain``: possibly received twice.
4. When no row is pending or claimed, the issue becomes sent. The scheduler's pass (every
   15 s) wakes a sending whose tasks went quiet, so a lost task or a restarted broker only
   delays it.
5. Editors pause, resume and cancel a sending (``dispatch_pause`` …); ``dispatch_progress``
   is what ``manage.py dispatch_status`` and the admin show.

A correction notice (``issues.corrections.correction_notice_send``) is sent the same way, from
its own rows: ``correction_notice_created`` snapshots the subscribers the story's issue went
to (their deliveries sent or uncertain, still subscribed), and the same batches, ledger and
progress follow. Each function below takes the sending as ``issue_id`` or ``notice_id``.
"""

import dataclasses
import logging
from collections import Counter
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max, Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from issues.corrections import correction_notice_finish
from issues.models import CorrectionNotice, IssueEvent, IssueStatus
from issues.services import WorkflowError

from .models import (
    Delivery,
    DeliveryStatus,
    Dispatch,
    DispatchState,
    Subscriber,
    SubscriberStatus,
    Subscription,
    SubscriptionStatus,
)

# Each delivery status in plain words, in the order a reader takes them in (what went out, what
# did not, what is still to come): the sending page's table and ``dispatch_status`` print these.
STATUS_WORDS = {
    DeliveryStatus.SENT: (gettext_lazy("sent"), gettext_lazy("accepted by the mail server")),
    DeliveryStatus.UNCERTAIN: (
        gettext_lazy("uncertain"),
        gettext_lazy(
            "sent again after a worker or a connection failed while it was in flight: may have "
            "arrived twice"
        ),
    ),
    DeliveryStatus.FAILED: (
        gettext_lazy("failed"),
        gettext_lazy("refused by the mail server for good (the answers are below)"),
    ),
    DeliveryStatus.SKIPPED: (
        gettext_lazy("skipped"),
        gettext_lazy("unsubscribed, suppressed or erased after publication: not sent"),
    ),
    DeliveryStatus.CANCELLED: (
        gettext_lazy("cancelled"),
        gettext_lazy("not sent: the sending was cancelled"),
    ),
    DeliveryStatus.PENDING: (
        gettext_lazy("pending"),
        gettext_lazy("waiting to be sent, or to be tried again after a temporary refusal"),
    ),
    DeliveryStatus.CLAIMED: (
        gettext_lazy("being sent"),
        gettext_lazy("in a batch a worker is sending now"),
    ),
}

logger = logging.getLogger(__name__)


def _snapshot_sql(column: str, *, readers_of_issue: bool) -> str:
    """The INSERT … SELECT of a sending's pending rows, keyed by ``column`` ("issue_id" or
    "notice_id"): from the newsletter's list, or from the rows an issue went to."""
    quote = connection.ops.quote_name
    delivery = quote(Delivery._meta.db_table)
    subscriber = quote(Subscriber._meta.db_table)
    subscription = quote(Subscription._meta.db_table)
    # Suppression is not matched here: it holds HMAC-SHA256 hashes keyed by a secret that
    # lives in the environment, which SQL cannot compute (SQLite has no HMAC; PostgreSQL only
    # with pgcrypto and the key in the query). What holds instead: every service that puts an
    # address on the suppression list also stops its subscriber (``address_suppress``: status
    # bounced, complained or unsubscribed, every subscription unsubscribed; ``subscriber_erase``
    # deletes the row), and every path back to active (confirm, preferences, sign-up, import)
    # refuses a suppressed address. So the status conditions below exclude the suppressed.
    # "WHERE" before "ON CONFLICT" is required by SQLite's parser for INSERT … SELECT upserts.
    # Only quoted table and fixed column names are formatted in; every value is a parameter.
    if readers_of_issue:
        source = f"{delivery} d INNER JOIN {subscriber} s ON s.id = d.subscriber_id"
        readers = "d.issue_id = %s AND d.status IN (%s, %s) AND "
    else:
        source, readers = f"{subscriber} s", ""
    return (
        f"INSERT INTO {delivery} "  # noqa: S608
        f"({column}, subscriber_id, status, attempts, in_flight_at_crash, message_id, "
        "smtp_response, created_at) "
        f"SELECT %s, s.id, %s, 0, %s, '', '', %s FROM {source} "
        f"INNER JOIN {subscription} m ON m.subscriber_id = s.id "
        f"WHERE {readers}m.newsletter_id = %s AND m.status = %s AND s.status = %s "
        f"ON CONFLICT ({column}, subscriber_id) DO NOTHING"
    )


def _snapshot(column: str, pk: int, *, newsletter_id: int, readers_of=None) -> int:
    """Run ``_snapshot_sql`` for one sending; return how many rows it made."""
    params = [
        pk,
        DeliveryStatus.PENDING,
        False,
        connection.ops.adapt_datetimefield_value(timezone.now()),
    ]
    if readers_of is not None:
        params += [readers_of.pk, DeliveryStatus.SENT, DeliveryStatus.UNCERTAIN]
    params += [newsletter_id, SubscriptionStatus.ACTIVE, SubscriberStatus.ACTIVE]
    with connection.cursor() as cursor:
        cursor.execute(_snapshot_sql(column, readers_of_issue=readers_of is not None), params)
        return cursor.rowcount


def deliveries_snapshot(*, issue) -> int:
    """Create a pending ``Delivery`` for each subscriber the issue goes to; return how many.

    The audience: active subscribers with an active subscription to the issue's newsletter.
    One INSERT … SELECT, not a Python loop: the rows never pass through this process, so a
    200 000-strong audience costs one statement and no memory here, and the snapshot is one
    consistent reading of the list. ON CONFLICT DO NOTHING makes a second snapshot of the same
    issue add only whoever is missing. Runs in the caller's transaction.
    """
    return _snapshot("issue_id", issue.pk, newsletter_id=issue.newsletter_id)


def issue_published_received(sender, *, issue, **kwargs) -> None:
    """``issues.signals.issue_published``: snapshot the audience in the publishing transaction
    and queue the batch tasks once it has committed."""
    deliveries_snapshot(issue=issue)
    audience = Delivery.objects.filter(issue=issue).count()
    Dispatch.objects.update_or_create(issue=issue, defaults={"audience": audience})
    issue_id = issue.pk
    transaction.on_commit(lambda: dispatch_enqueue(issue_id=issue_id))


def sending_key(*, issue_id: int | None = None, notice_id: int | None = None) -> dict:
    """The filter of one sending's rows (deliveries, dispatch): an issue's or a notice's."""
    if (issue_id is None) == (notice_id is None):
        raise TypeError("a sending is of exactly one of an issue and a notice")
    return {"issue_id": issue_id} if issue_id is not None else {"notice_id": notice_id}


def notice_deliveries_snapshot(*, notice: CorrectionNotice) -> int:
    """Create a pending ``Delivery`` of ``notice`` for each subscriber the story's issue went
    to (sent, or uncertain: may have arrived) and who is still subscribed to its newsletter;
    return how many. One INSERT … SELECT, in the caller's transaction."""
    issue = notice.story.issue
    return _snapshot("notice_id", notice.pk, newsletter_id=issue.newsletter_id, readers_of=issue)


def correction_notice_received(sender, *, notice, **kwargs) -> None:
    """``issues.signals.correction_notice_created``: the notice's audience, its dispatch, and
    its batch tasks once the notice has committed."""
    audience = notice_deliveries_snapshot(notice=notice)
    Dispatch.objects.create(notice=notice, audience=audience)
    notice_id = notice.pk
    transaction.on_commit(lambda: dispatch_enqueue(notice_id=notice_id))


def dispatch_enqueue(
    *, issue_id: int | None = None, notice_id: int | None = None, tasks: int | None = None
) -> None:
    """Queue batch tasks for a sending: as many as worker processes may share it."""
    from .tasks import send_issue, send_notice

    key = sending_key(issue_id=issue_id, notice_id=notice_id)
    Dispatch.objects.filter(**key).update(last_active_at=timezone.now())
    for _task in range(tasks or settings.DISPATCH_TASKS_PER_ISSUE):
        if issue_id is not None:
            send_issue.delay(issue_id)
        else:
            send_notice.delay(notice_id)


def pending_due(now) -> Q:
    """Deliveries waiting to be sent whose retry time, if any, has come."""
    return Q(status=DeliveryStatus.PENDING) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )


def in_flight_flag(expired) -> list[int]:
    """Of rows claimed by batches whose worker died, ``(pk, claim)`` in id order, mark each
    batch's lowest: a batch is sent in id order and each row recorded as the server answers,
    so that is the only one that can have been in flight. Returns every pk given."""
    first_of_claim = {}
    for pk, claim in expired:
        first_of_claim.setdefault(claim, pk)
    Delivery.objects.filter(pk__in=first_of_claim.values()).update(in_flight_at_crash=True)
    return [pk for pk, _claim in expired]


def dispatch_counts(*, issue_id: int | None = None, notice_id: int | None = None) -> dict:
    """Deliveries of a sending by status, every status present (0 when none)."""
    key = sending_key(issue_id=issue_id, notice_id=notice_id)
    found = Counter(
        dict(
            Delivery.objects.filter(**key).order_by().values_list("status").annotate(n=Count("pk"))
        )
    )
    return {status: found.get(status, 0) for status in DeliveryStatus.values}


def _summary(counts: dict[str, int]) -> str:
    return ", ".join(
        f"{counts[status]} {label.lower()}"
        for status, label in DeliveryStatus.choices
        if counts[status]
    )


def _cancelled_leftovers(key: dict) -> None:
    """A cancelled sending's rows that came back after the cancel: put back to pending by a
    batch in flight (a temporary refusal, the mail server lost), or claimed by a worker that
    died (no claim comes to recover them any more). They are cancelled too; of a dead batch,
    the row that may have been in flight keeps that mark."""
    expired = in_flight_flag(
        Delivery.objects.filter(
            status=DeliveryStatus.CLAIMED, claimed_until__lt=timezone.now(), **key
        )
        .order_by("pk")
        .values_list("pk", "claim")
    )
    Delivery.objects.filter(Q(status=DeliveryStatus.PENDING) | Q(pk__in=expired), **key).update(
        status=DeliveryStatus.CANCELLED, claim=None, claimed_until=None, next_attempt_at=None
    )


def dispatch_finish_if_done(*, issue_id: int | None = None, notice_id: int | None = None) -> bool:
    """Make the issue sent (the notice sent) once no delivery is pending or claimed; True if
    this call did."""
    from issues.services import issue_finish

    key = sending_key(issue_id=issue_id, notice_id=notice_id)
    dispatch = Dispatch.objects.filter(**key).select_related("issue", "notice").first()
    if dispatch is None:
        return False
    if dispatch.state == DispatchState.CANCELLED:
        _cancelled_leftovers(key)
    if Delivery.objects.filter(
        status__in=[DeliveryStatus.PENDING, DeliveryStatus.CLAIMED], **key
    ).exists():
        return False
    with transaction.atomic():
        if issue_id is not None:
            summary = _summary(dispatch_counts(issue_id=issue_id))
            finished = issue_finish(issue=dispatch.issue, comment=summary)
        else:
            finished = correction_notice_finish(notice=dispatch.notice)
        if finished:
            # Paused during its last batch, a sending is finished all the same.
            Dispatch.objects.filter(
                state__in=[DispatchState.RUNNING, DispatchState.PAUSED], **key
            ).update(state=DispatchState.FINISHED)
            Dispatch.objects.filter(**key).update(finished_at=timezone.now(), last_error="")
    return finished


def dispatch_is_live(dispatch: Dispatch) -> bool:
    """Whether ``dispatch`` (its issue or notice read along) still has messages to send: its
    issue is sending, its notice not sent yet."""
    if dispatch.issue_id is not None:
        return dispatch.issue.status == IssueStatus.SENDING
    return dispatch.notice.sent_at is None


def dispatch_wake_quiet(now=None) -> list[int]:
    """The scheduler's safety net: queue tasks for sendings that went quiet with work due
    (their tasks lost with a restarted broker, a killed worker's rows past their lease), and
    finish those with nothing left. Returns the ids of the issues woken (notices are woken
    too, and logged)."""
    now = now or timezone.now()
    woken = []
    live = Q(issue__status=IssueStatus.SENDING) | Q(
        notice__isnull=False, notice__sent_at__isnull=True
    )
    for dispatch in Dispatch.objects.filter(live).select_related("issue", "notice"):
        key = sending_key(issue_id=dispatch.issue_id, notice_id=dispatch.notice_id)
        if dispatch_finish_if_done(**key):
            continue
        if dispatch.state != DispatchState.RUNNING:
            continue
        if dispatch.last_active_at and dispatch.last_active_at > now - timedelta(
            seconds=settings.DISPATCH_QUIET_SECONDS
        ):
            continue
        due = pending_due(now) | Q(status=DeliveryStatus.CLAIMED, claimed_until__lt=now)
        if Delivery.objects.filter(due, **key).exists():
            dispatch_enqueue(**key)
            if dispatch.issue_id is not None:
                woken.append(dispatch.issue_id)
            else:
                logger.info("Correction notice %s: woken.", dispatch.notice_id)
    return woken


# Editors' controls -------------------------------------------------------------------------------

CONTROL_PERMISSION = "issues.schedule_issue"


def _dispatch_locked(issue, acting_user, *, verb: str, states, refusal: str) -> Dispatch:
    """The issue's dispatch, locked, if this person may ``verb`` it and it is in ``states``."""
    if not acting_user.has_perm(CONTROL_PERMISSION):
        raise WorkflowError(
            _("You may not %(verb)s the sending of an issue.") % {"verb": verb}, code="forbidden"
        )
    dispatch = Dispatch.objects.select_for_update().select_related("issue").filter(issue=issue)
    dispatch = dispatch.first()
    if dispatch is None or dispatch.issue.status != IssueStatus.SENDING:
        raise WorkflowError(
            _("The issue “%(issue)s” is not being sent: there is nothing to %(verb)s.")
            % {"issue": issue, "verb": verb},
            code="state",
        )
    if dispatch.state not in states:
        raise WorkflowError(refusal % {"state": dispatch.get_state_display().lower()}, code="state")
    return dispatch


def _control(dispatch: Dispatch, acting_user, *, state: str, action: str, comment: str = ""):
    now = timezone.now()
    dispatch.state = state
    dispatch.state_changed_by = acting_user
    dispatch.state_changed_at = now
    dispatch.save(update_fields=["state", "state_changed_by", "state_changed_at"])
    IssueEvent.objects.create(
        issue_id=dispatch.issue_id,
        actor=acting_user,
        action=action,
        from_status=IssueStatus.SENDING,
        to_status=IssueStatus.SENDING,
        comment=comment,
        created_at=now,
    )


def dispatch_pause(*, issue, acting_user) -> Dispatch:
    """Stop a sending after the batches in flight (at most one batch per worker)."""
    with transaction.atomic():
        dispatch = _dispatch_locked(
            issue,
            acting_user,
            verb=_("pause"),
            states={DispatchState.RUNNING},
            refusal=_("The sending is %(state)s: only a running sending can be paused."),
        )
        _control(dispatch, acting_user, state=DispatchState.PAUSED, action="pause_sending")
    return dispatch


def dispatch_resume(*, issue, acting_user) -> Dispatch:
    """Go on with a paused sending where it stopped."""
    with transaction.atomic():
        dispatch = _dispatch_locked(
            issue,
            acting_user,
            verb=_("resume"),
            states={DispatchState.PAUSED},
            refusal=_("The sending is %(state)s: only a paused sending can be resumed."),
        )
        _control(dispatch, acting_user, state=DispatchState.RUNNING, action="resume_sending")
        issue_id = dispatch.issue_id
        transaction.on_commit(lambda: dispatch_enqueue(issue_id=issue_id))
    return dispatch


def dispatch_cancel(*, issue, acting_user) -> Dispatch:
    """Send no more of the issue: every delivery not yet sent is cancelled. Batches in flight
    finish (at most one per worker); then the issue counts as sent, to whoever got it."""
    with transaction.atomic():
        dispatch = _dispatch_locked(
            issue,
            acting_user,
            verb=_("cancel"),
            states={DispatchState.RUNNING, DispatchState.PAUSED},
            refusal=_("The sending is %(state)s already."),
        )
        cancelled = Delivery.objects.filter(
            issue_id=dispatch.issue_id, status=DeliveryStatus.PENDING
        ).update(status=DeliveryStatus.CANCELLED, next_attempt_at=None)
        _control(
            dispatch,
            acting_user,
            state=DispatchState.CANCELLED,
            action="cancel_sending",
            comment=_("%(count)d deliveries cancelled before sending.") % {"count": cancelled},
        )
    dispatch_finish_if_done(issue_id=dispatch.issue_id)
    return dispatch


def duration_words(seconds: float) -> str:
    """“45 s”, “3 min 20 s”, “2 h 5 min”: a time left, for the sending page and the command."""
    seconds = round(seconds)
    if seconds < 120:
        return _("%(s)d s") % {"s": seconds}
    if seconds < 7200:
        return _("%(m)d min %(s)d s") % {"m": seconds // 60, "s": seconds % 60}
    return _("%(h)d h %(m)d min") % {"h": seconds // 3600, "m": seconds % 3600 // 60}


# What editors and operators see ------------------------------------------------------------------

# The send rate is measured over this window.
RATE_WINDOW_SECONDS = 60


@dataclasses.dataclass(frozen=True)
class Progress:
    """Where a sending stands, for ``dispatch_status`` and the admin's progress bar."""

    issue_id: int | None
    state: str
    state_label: str
    audience: int
    counts: dict[str, int]
    publish_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    first_sent_at: datetime | None
    last_sent_at: datetime | None
    rate: float | None
    last_error: str
    notice_id: int | None = None

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def balanced(self) -> bool:
        """The invariant: every delivery of the audience is in exactly one status."""
        return self.total == self.audience

    @property
    def open(self) -> int:
        return self.counts[DeliveryStatus.PENDING] + self.counts[DeliveryStatus.CLAIMED]

    @property
    def settled(self) -> int:
        return self.total - self.open

    @property
    def percent(self) -> float:
        return 100.0 if not self.audience else 100.0 * self.settled / self.audience

    @property
    def seconds_left(self) -> float | None:
        if not self.open:
            return 0.0
        if not self.rate:
            return None
        return self.open / self.rate

    @property
    def lag_seconds(self) -> float | None:
        """From the scheduled time to the first message the mail server accepted."""
        if self.publish_at is None or self.first_sent_at is None:
            return None
        return (self.first_sent_at - self.publish_at).total_seconds()


def dispatch_progress(
    *, issue_id: int | None = None, notice_id: int | None = None, now: datetime | None = None
) -> Progress | None:
    """The progress of a sending; None when there is none (an issue not published)."""
    key = sending_key(issue_id=issue_id, notice_id=notice_id)
    dispatch = Dispatch.objects.select_related("issue", "notice").filter(**key).first()
    if dispatch is None:
        return None
    now = now or timezone.now()
    since = now - timedelta(seconds=RATE_WINDOW_SECONDS)
    sent = Q(status__in=[DeliveryStatus.SENT, DeliveryStatus.UNCERTAIN])
    # One query: counts by status, and when the mail server accepted the first, last and the
    # last minute's messages.
    rows = (
        Delivery.objects.filter(**key)
        .order_by()
        .values("status")
        .annotate(
            n=Count("pk"),
            recent=Count("pk", filter=sent & Q(sent_at__gte=since)),
            first=Min("sent_at", filter=sent),
            last=Max("sent_at", filter=sent),
        )
    )
    counts = dict.fromkeys(DeliveryStatus.values, 0)
    recent, firsts, lasts = 0, [], []
    for row in rows:
        counts[row["status"]] = row["n"]
        recent += row["recent"]
        firsts += [row["first"]] if row["first"] else []
        lasts += [row["last"]] if row["last"] else []
    first, last = min(firsts, default=None), max(lasts, default=None)
    rate = None
    sent_count = counts[DeliveryStatus.SENT] + counts[DeliveryStatus.UNCERTAIN]
    if first is not None and not counts[DeliveryStatus.PENDING] + counts[DeliveryStatus.CLAIMED]:
        # Done: the rate of the whole sending, first message to last.
        span = (last - first).total_seconds()
        rate = sent_count / span if span > 0 else None
    elif first is not None:
        window = min(RATE_WINDOW_SECONDS, (now - max(first, since)).total_seconds())
        rate = recent / window if recent and window > 0 else 0.0
    return Progress(
        issue_id=issue_id,
        notice_id=notice_id,
        state=dispatch.state,
        state_label=dispatch.get_state_display(),
        audience=dispatch.audience,
        counts=counts,
        # A notice goes out as soon as it is made.
        publish_at=dispatch.issue.publish_at if issue_id else dispatch.notice.created_at,
        started_at=dispatch.started_at,
        finished_at=dispatch.finished_at,
        first_sent_at=first,
        last_sent_at=last,
        rate=rate,
        last_error=dispatch.last_error,
    )
