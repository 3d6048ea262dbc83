"""Signals the editorial app sends, for apps it must not know (subscribers, dispatch)."""

from django.dispatch import Signal

# Sent with sender=Issue, issue=<the issue>, inside the transaction that moved the issue to
# sending: a receiver's rows commit, or roll back, with the publication itself.
issue_published = Signal()
