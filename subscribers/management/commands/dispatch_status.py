"""Where an issue's sending (or a correction notice's) stands: deliveries by status, the
invariant, rate, time left."""

import dataclasses
import json

from django.core.management.base import BaseCommand, CommandError

from issues.models import CorrectionNotice, Issue
from subscribers.dispatch.progress import STATUS_WORDS, dispatch_progress, duration_words
from subscribers.dispatch.tallies import connections_report
from subscribers.models import Delivery, DeliveryStatus


class Command(BaseCommand):
    help = (
        "Print the deliveries of an issue by status, whether they add up to its audience, the "
        "send rate, the time left, each relay's and each connection's rate and failures, and "
        "the latest failures with the mail server's answers. "
        "Exits with status 1 if the counts do not add up."
    )

    def add_arguments(self, parser):
        parser.add_argument("issue_id", type=int, help="The issue's id (see the admin's URL).")
        parser.add_argument(
            "--notice",
            action="store_true",
            help="The id is a correction notice's (see its sending report's URL).",
        )
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")
        parser.add_argument(
            "--failures", type=int, default=10, help="How many failures to list (default 10)."
        )

    def handle(self, *args, issue_id, **options):
        if options["notice"]:
            return self._notice(issue_id, **options)
        issue = Issue.objects.select_related("newsletter").filter(pk=issue_id).first()
        if issue is None:
            raise CommandError(f"There is no issue with id {issue_id}.")
        progress = dispatch_progress(issue_id=issue.pk)
        if progress is None:
            raise CommandError(
                f"Issue {issue.pk} ({issue}) is {issue.get_status_display().lower()}: "
                "it has not been published, so nothing has been sent."
            )
        self._report(issue, progress, {"issue": issue}, **options)

    def _notice(self, notice_id, **options):
        notice = (
            CorrectionNotice.objects.select_related("story__issue__newsletter")
            .filter(pk=notice_id)
            .first()
        )
        if notice is None:
            raise CommandError(f"There is no correction notice with id {notice_id}.")
        self._report(notice, dispatch_progress(notice_id=notice.pk), {"notice": notice}, **options)

    def _report(self, sent, progress, key, **options):
        """Print the report of ``sent`` (an issue or a notice) and exit 1 if unbalanced."""
        failures = list(
            Delivery.objects.filter(status=DeliveryStatus.FAILED, **key)
            .order_by("-pk")
            .values_list("subscriber__email", "smtp_response")[: max(options["failures"], 0)]
        )
        if options["json"]:
            self._json(sent, progress, failures)
        else:
            self._text(sent, progress, failures)
        if not progress.balanced:
            raise SystemExit(1)

    @staticmethod
    def _status(sent) -> str:
        if isinstance(sent, CorrectionNotice):
            return "sent" if sent.sent_at else "sending"
        return sent.status

    @staticmethod
    def _title(sent) -> str:
        if isinstance(sent, CorrectionNotice):
            issue = sent.story.issue
            return (
                f"Correction notice {sent.pk} “{sent.story}” to the readers of "
                f"{issue.newsletter.slug} #{issue.number}"
            )
        return f"Issue {sent.pk} {sent.newsletter.slug} “{sent}”"

    @staticmethod
    def _connections(progress):
        return connections_report(issue_id=progress.issue_id, notice_id=progress.notice_id)

    def _json(self, sent, progress, failures):
        def moment(value):
            return value.isoformat() if value else None

        connections, relays = self._connections(progress)
        self.stdout.write(
            json.dumps(
                {
                    "notice" if isinstance(sent, CorrectionNotice) else "issue": sent.pk,
                    "status": self._status(sent),
                    "state": progress.state,
                    "audience": progress.audience,
                    "counts": progress.counts,
                    "balanced": progress.balanced,
                    "rate": progress.rate,
                    "seconds_left": progress.seconds_left,
                    "publish_at": moment(progress.publish_at),
                    "first_sent_at": moment(progress.first_sent_at),
                    "last_sent_at": moment(progress.last_sent_at),
                    "lag_seconds": progress.lag_seconds,
                    "last_error": progress.last_error,
                    "failures": [{"email": email, "answer": answer} for email, answer in failures],
                    "relays": [dataclasses.asdict(relay) for relay in relays],
                    "connections": [
                        dataclasses.asdict(row) | {"updated_at": moment(row.updated_at)}
                        for row in connections
                    ],
                }
            )
        )

    def _text(self, sent, progress, failures):
        write = self.stdout.write
        status = self._status(sent)
        if isinstance(sent, Issue):
            status = sent.get_status_display().lower()
        write(f"{self._title(sent)}: {status}, sending {progress.state_label.lower()}")
        width = len(f"{progress.audience:,}")
        write(f"  {progress.audience:>{width},}  audience")
        for status, (label, meaning) in STATUS_WORDS.items():
            write(f"  {progress.counts[status]:>{width},}  {label} — {meaning}")
        verdict = "= audience" if progress.balanced else "DOES NOT MATCH the audience"
        write(f"  {progress.total:>{width},}  in all {verdict}")
        write(f"  {progress.percent:.1f} % done")
        if progress.rate:
            left = progress.seconds_left
            over = "over the last minute" if progress.open else "from first to last"
            write(
                f"  {progress.rate:,.0f} messages/s {over}"
                + (f"; about {duration_words(left)} left" if left else "")
            )
        if progress.lag_seconds is not None:
            since = "the notice was made" if progress.notice_id else "the scheduled time"
            write(f"  first message accepted {progress.lag_seconds:.1f} s after {since}")
        if progress.last_error:
            write(f"  last error: {progress.last_error}")
        connections, relays = self._connections(progress)
        for relay in relays:
            now = (
                f"{relay.active} of {relay.connections} connections sending now, "
                f"{relay.rate:,.1f} messages/s"
                if relay.live
                else f"{relay.connections} connection{'s' * (relay.connections != 1)}"
            )
            write(
                f"  relay {relay.relay}: {now}; {relay.sent:,} sent, "
                f"{relay.failures:,} connection failures"
            )
        for row in connections:
            rate = f"{row.rate:,.1f}/s over its last batch" if row.rate is not None else "no rate"
            write(
                f"    {row.name}: {row.sent:,} sent, {row.refused:,} refused, {rate}, "
                f"{row.failures:,} failures"
                + (f"; last error: {row.last_error}" if row.last_error else "")
            )
        if failures:
            write(f"  latest failures ({len(failures)}):")
            for email, answer in failures:
                write(f"    {email or '(erased subscriber)'}: {answer}")
