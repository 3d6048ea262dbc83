"""Where a sending stands, for ``manage.py dispatch_status``, the sending pages and the
dashboard: deliveries by status, rate, time left."""

import dataclasses
from datetime import datetime, timedelta

from django.db.models import Count, Max, Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..models import Delivery, DeliveryStatus, Dispatch
from .ledger import sending_key

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
