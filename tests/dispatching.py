"""What every crash test of dispatch checks once the sending is over."""

import collections

from subscribers.dispatch.progress import dispatch_progress
from subscribers.models import Delivery

S = Delivery.Status


def once_each_but_uncertain(issue, received: list[str], addresses, *, most_uncertain) -> set[str]:
    """Everyone got the issue; only rows recorded uncertain may have got two copies, at most
    ``most_uncertain`` of them; the invariant holds. Returns who got two copies."""
    copies = collections.Counter(received)
    assert set(copies) == set(addresses), "someone did not get the issue"
    uncertain = set(
        Delivery.objects.filter(issue=issue, status=S.UNCERTAIN).values_list(
            "subscriber__email", flat=True
        )
    )
    twice = {address for address, n in copies.items() if n > 1}
    assert twice <= uncertain, f"sent twice without a record: {twice - uncertain}"
    assert max(copies.values()) <= 2
    assert len(uncertain) <= most_uncertain
    progress = dispatch_progress(issue_id=issue.pk)
    assert progress.balanced
    assert progress.counts[S.SENT] + progress.counts[S.UNCERTAIN] == len(addresses)
    return twice
