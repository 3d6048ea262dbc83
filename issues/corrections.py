"""Corrections, retractions and takedowns: a published story's record, corrected in public.

A published story is never edited silently. An editor corrects it (``story_correct``: a
numbered, public note, the story's text optionally fixed in the same step as a new version),
or takes it back: a retraction (its editor's note shown where the body was) or a legal or
safety takedown (a fixed line only) needs two editors, one asking and another carrying it out
(``story_retract``, ``story_takedown``). Every step is an event row on the story's log, and the
issue follows: corrected once one story in it is, retracted once every story in it is.
"""

from collections.abc import Mapping

import reversion
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from .admin_log import admin_log
from .models import (
    Block,
    Correction,
    CorrectionKind,
    CorrectionNotice,
    Story,
    StoryEvent,
    Withdrawal,
    WithdrawalKind,
)
from .signals import correction_notice_created
from .slugs import unique_slug
from .steps import (
    WorkflowError,
    capitalised,
    issue_event,
    issue_locked,
    quoted,
    story_event,
    story_locked,
)
from .workflow import ISSUE_TRANSITIONS, STORY_RECORD_STEPS, Transition

# What a text fix may change: the headline, the takeaway and blocks by position.
TEXT_FIELDS = ("headline", "takeaway")


def story_on_the_record(story: Story) -> bool:
    """Whether ``story`` (its issue read along) has gone out: corrected from now on, not edited."""
    issue = story.issue
    sources = STORY_RECORD_STEPS["correct"].sources
    return issue is not None and issue.published_at is not None and issue.status in sources


def _on_the_record(story: Story, acting_user, step: Transition) -> str:
    """Refuse ``step`` unless ``acting_user`` may take it and ``story`` has gone out."""
    what = _("the story %(headline)s") % {"headline": quoted(story.headline)}
    if not acting_user.has_perm(step.permission):
        raise WorkflowError(
            _("Only editors may correct, retract or take down %(what)s.") % {"what": what},
            code="forbidden",
        )
    if not story_on_the_record(story):
        raise WorkflowError(
            _("%(what)s has not been published: edit it instead.") % {"what": capitalised(what)},
            code="state",
        )
    return what


def _event(story: Story, acting_user, step: Transition, comment: str) -> StoryEvent:
    admin_log(obj=story, acting_user=acting_user, transition=step, comment=comment)
    return story_event(story, acting_user, step.name, comment)


def _issue_follows(story: Story, acting_user) -> None:
    """The story's issue becomes corrected, or retracted once none of its stories stands."""
    issue = issue_locked(story.issue)
    standing = issue.stories.exclude(withdrawals__approved_at__isnull=False)
    name = "correct" if standing.exists() else "retract"
    transition = ISSUE_TRANSITIONS[name]
    if issue.status not in transition.sources or issue.status == transition.target:
        return
    comment = _("Because of %(headline)s.") % {"headline": quoted(story.headline)}
    issue_event(issue, acting_user, transition, comment=comment)
    issue.status = transition.target
    issue.save(update_fields=["status", "updated_at"])


def _text_fix(story: Story, changes: Mapping, *, acting_user, comment: str) -> int:
    """Apply ``changes`` ({"headline": …, "takeaway": …, "blocks": {position: text}}) as a
    new version of the story; return its new revision."""
    unknown = set(changes) - {*TEXT_FIELDS, "blocks"}
    if unknown:
        raise WorkflowError(
            _("A correction can change the headline, the takeaway and blocks, not: %(fields)s.")
            % {"fields": ", ".join(sorted(unknown))},
            code="fields",
        )
    blocks = {block.position: block for block in story.blocks.all()}
    for position, text in (changes.get("blocks") or {}).items():
        if position not in blocks:
            raise WorkflowError(
                _("The story has no block %(position)s.") % {"position": position}, code="block"
            )
        if not (text or "").strip():
            raise WorkflowError(_("A corrected block cannot be empty."), code="block")
    if "headline" in changes and not (changes["headline"] or "").strip():
        raise WorkflowError(_("A corrected headline cannot be empty."), code="headline")
    with reversion.create_revision():
        reversion.set_user(acting_user)
        reversion.set_comment(comment)
        for position, text in (changes.get("blocks") or {}).items():
            Block.objects.filter(pk=blocks[position].pk).update(text=text.strip())
        for field in TEXT_FIELDS:
            if field in changes:
                setattr(story, field, changes[field].strip())
        story.revision += 1
        story.save(update_fields=[*[f for f in TEXT_FIELDS if f in changes], "revision"])
        reversion.add_to_revision(story)
    return story.revision


def story_correct(
    *, story: Story, note: str, kind: str, acting_user, text_changes: Mapping | None = None
) -> Correction:
    """Add a numbered public correction to a published story, and fix its text in the same
    step when ``text_changes`` says how ({"headline": …, "takeaway": …, "blocks": {position:
    text}}). Corrections are added, never edited or deleted."""
    note = (note or "").strip()
    if kind not in CorrectionKind.values:
        raise WorkflowError(
            _("Choose the kind: correction, clarification or editor's note."), code="kind"
        )
    if not note:
        raise WorkflowError(_("Say what was wrong: a correction needs a public note."), code="note")
    step = STORY_RECORD_STEPS["correct"]
    with transaction.atomic():
        current = story_locked(story)
        _on_the_record(current, acting_user, step)
        if current.withdrawals.carried_out().exists():
            raise WorkflowError(
                _("The story %(headline)s has been withdrawn: it cannot be corrected.")
                % {"headline": quoted(current.headline)},
                code="withdrawn",
            )
        number = (current.corrections.aggregate(last=Max("number"))["last"] or 0) + 1
        read_revision = current.revision
        # The step first: it leads to the fixed version, and the page comparing the two
        # versions lists it between them.
        _event(current, acting_user, step, note)
        fixed = None
        if text_changes:
            label = CorrectionKind(kind).label
            fixed = _text_fix(
                current, text_changes, acting_user=acting_user, comment=f"{label} {number}: {note}"
            )
        correction = Correction.objects.create(
            story=current,
            number=number,
            kind=kind,
            note=note,
            approved_by=acting_user,
            revision=read_revision,
            fixed_revision=fixed,
        )
        _issue_follows(current, acting_user)
    return correction


def _withdraw(*, story: Story, note: str, acting_user, kind: str) -> Withdrawal:
    note = (note or "").strip()
    request_step = STORY_RECORD_STEPS[f"{kind_step(kind)}_request"]
    done_step = STORY_RECORD_STEPS[kind_step(kind)]
    with transaction.atomic():
        current = story_locked(story)
        what = _on_the_record(current, acting_user, done_step)
        done = current.withdrawals.carried_out()
        if done.filter(kind=WithdrawalKind.TAKEDOWN).exists() or (
            kind == WithdrawalKind.RETRACTION and done.exists()
        ):
            raise WorkflowError(
                _("%(what)s has already been withdrawn.") % {"what": capitalised(what)},
                code="withdrawn",
            )
        asked = current.withdrawals.open().filter(kind=kind).select_for_update().first()
        if asked is None:
            if not note:
                raise WorkflowError(
                    _("Say why: the request needs a note."),
                    code="note",
                )
            asked = Withdrawal.objects.create(
                story=current, kind=kind, note=note, requested_by=acting_user
            )
            _event(current, acting_user, request_step, note)
            return asked
        if asked.requested_by_id == acting_user.pk:
            raise WorkflowError(
                _(
                    "You asked for this on %(when)s: another editor must approve it before "
                    "anything changes."
                )
                % {"when": date_format(timezone.localtime(asked.requested_at), "j M Y H:i")},
                code="second_editor",
            )
        asked.approved_by = acting_user
        asked.approved_at = timezone.now()
        asked.save(update_fields=["approved_by", "approved_at"])
        if kind == WithdrawalKind.TAKEDOWN:
            _address_neutral(current)
        _event(current, acting_user, done_step, note)
        _issue_follows(current, acting_user)
    return asked


def _address_neutral(story: Story) -> None:
    """A taken-down story's address stops carrying its headline's words (names, places): it
    becomes "removed" in its issue. The old address redirects there (``archive.signals``), so
    links readers hold still work and nothing public spells the headline again."""
    taken = set(
        Story.objects.filter(issue_id=story.issue_id)
        .exclude(pk=story.pk)
        .values_list("slug", flat=True)
    )
    story.slug = unique_slug("removed", taken)
    story.save(update_fields=["slug"])


def kind_step(kind: str) -> str:
    """The event name of a withdrawal kind: "retract" or "takedown"."""
    return "retract" if kind == WithdrawalKind.RETRACTION else "takedown"


def story_retract(*, story: Story, note: str, acting_user) -> Withdrawal:
    """Retract a published story; two editors are needed.

    The first editor's call records the request, with ``note``: the public editor's note
    readers will see in place of the story. Nothing public changes until another editor makes
    the same call, which carries it out (their ``note`` goes on the record beside it). The
    requester calling again is refused.
    """
    kind = WithdrawalKind.RETRACTION
    return _withdraw(story=story, note=note, acting_user=acting_user, kind=kind)


def story_takedown(*, story: Story, note: str, acting_user) -> Withdrawal:
    """Take a published story down for legal or safety reasons; two editors, as a retraction.

    Readers see only a fixed line where the story was; ``note`` (the reason) stays in the
    newsroom's record and is never shown in public.
    """
    return _withdraw(story=story, note=note, acting_user=acting_user, kind=WithdrawalKind.TAKEDOWN)


def withdrawal_cancel(*, withdrawal: Withdrawal, acting_user) -> Withdrawal:
    """Withdraw an open retraction or takedown request (its requester or any editor)."""
    step = STORY_RECORD_STEPS["withdrawal_cancel"]
    with transaction.atomic():
        current = story_locked(withdrawal.story)
        _on_the_record(current, acting_user, step)
        asked = Withdrawal.objects.select_for_update().get(pk=withdrawal.pk)
        if asked.approved_at is not None or asked.cancelled_at is not None:
            raise WorkflowError(_("This request is no longer open."), code="state")
        asked.cancelled_at = timezone.now()
        asked.save(update_fields=["cancelled_at"])
        _event(current, acting_user, step, asked.get_kind_display())
    return asked


# The record an issue carries at its top ------------------------------------------------------


def record_since(issue) -> list:
    """The corrections and carried-out withdrawals of the newsletter's earlier stories made
    since the issue before this one went out, up to this one's publication (or now, for one
    not yet out), each with its story and issue, oldest first: what the issue's "Corrections"
    section tells its readers (``issues.rendering``)."""
    until = issue.published_at or timezone.now()
    before = (
        type(issue)
        .objects.published()
        .filter(newsletter_id=issue.newsletter_id, published_at__lt=until)
        .exclude(pk=issue.pk)
        .order_by("-published_at")
        .values_list("published_at", flat=True)
        .first()
    )
    if before is None:
        return []
    return _record_between(before, until, story__issue__newsletter_id=issue.newsletter_id)


# Telling the readers who got the story -------------------------------------------------------


def _record_between(since, until, **where) -> list:
    """The corrections and carried-out withdrawals ``where`` says (of a story, of a
    newsletter's stories) made after ``since`` (None: from the start) up to ``until``, each
    with its story and issue, oldest first."""
    corrections = Correction.objects.filter(created_at__lte=until, **where)
    withdrawals = Withdrawal.objects.carried_out().filter(approved_at__lte=until, **where)
    if since is not None:
        corrections = corrections.filter(created_at__gt=since)
        withdrawals = withdrawals.filter(approved_at__gt=since)
    made = [(row.created_at, row) for row in corrections.select_related("story__issue")]
    made += [(row.approved_at, row) for row in withdrawals.select_related("story__issue")]
    return [row for _when, row in sorted(made, key=lambda pair: pair[0])]


def notice_record(notice: CorrectionNotice) -> list:
    """What ``notice`` tells: its story's corrections and carried-out withdrawals made after
    the previous notice and up to this one, oldest first."""
    return _record_between(notice.since, notice.created_at, story=notice.story)


def correction_notice_send(*, story: Story, acting_user) -> CorrectionNotice:
    """Email the readers who got ``story``'s issue what changed on its record since its last
    notice: its corrections, its retraction or takedown. They are exactly the subscribers the
    issue went out to (their deliveries sent, or uncertain), less those who have since
    unsubscribed or are suppressed; never today's list. The sending is subscribers' dispatch,
    with its ledger and progress page; this makes the notice and its event."""
    step = STORY_RECORD_STEPS["notice"]
    with transaction.atomic():
        current = story_locked(story)
        _on_the_record(current, acting_user, step)
        last = current.notices.order_by("-created_at").values_list("created_at", flat=True)
        since, now = last.first(), timezone.now()
        told = _record_between(since, now, story=current)
        if not told:
            raise WorkflowError(
                _("Nothing to tell: readers have had a notice of everything on the record.")
                if since
                else _("Nothing to tell yet: the story has no correction or withdrawal."),
                code="nothing",
            )
        notice = CorrectionNotice.objects.create(
            story=current, since=since, created_by=acting_user, created_at=now
        )
        _event(
            current,
            acting_user,
            step,
            _("To the readers of issue #%(number)s: %(what)s.")
            % {
                "number": current.issue.number,
                "what": ", ".join(str(row.get_kind_display()).lower() for row in told),
            },
        )
        correction_notice_created.send(sender=CorrectionNotice, notice=notice)
    return notice


def correction_notice_finish(*, notice: CorrectionNotice) -> bool:
    """Dispatch's step: the notice's messages have all gone; True if this call said so."""
    return bool(
        CorrectionNotice.objects.filter(pk=notice.pk, sent_at__isnull=True).update(
            sent_at=timezone.now()
        )
    )
