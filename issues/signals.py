"""Signals the editorial app sends, for apps it must not know (subscribers, dispatch, sources)."""

from django.dispatch import Signal

# Sent with sender=Issue, issue=<the issue>, inside the transaction that moved the issue to
# sending: a receiver's rows commit, or roll back, with the publication itself.
issue_published = Signal()

# Sent with sender=Story, story=<the story, locked>, transition="submit" or "approve", inside
# the step's transaction, once the person, the revision and the state have been checked and
# before anything is written. Each receiver returns a list of problems, one sentence each, that
# name the block they concern (issues.attribution.attribution_problem writes one); any problem
# refuses the step with code "unsourced". A receiver's exception is not caught: it refuses the
# step too, rather than letting a story through unchecked.
story_review_checks = Signal()

# Sent with sender=CorrectionNotice, notice=<the notice>, inside the transaction that created
# it: the receiver (subscribers' dispatch) takes its audience from the original issue's
# deliveries, and its rows commit, or roll back, with the notice.
correction_notice_created = Signal()

# Sent with sender=StoryEvent, event=<the event>, inside the transaction of a story step people
# are told of by email (submit, approve, return): the receiver in ``issues.tasks`` queues the
# notification once that transaction commits. The services know no tasks.
story_step_recorded = Signal()
