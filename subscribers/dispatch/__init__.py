"""Dispatch of published issues to subscribers: the audience snapshot, then batch sending.

Who receives an issue is decided once, when it is published: one ``Delivery`` row per
(issue, subscriber). Sending works from those rows, never from the live subscriber list:

1. ``issue_published`` (in the publishing transaction): the snapshot, a ``Dispatch`` row with
   the audience size, and batch tasks queued once that transaction commits (ids only):
   ``start``.
2. A batch task (``loop.dispatch_run``) claims up to ``DISPATCH_BATCH_SIZE`` pending rows at a
   time (``SKIP LOCKED``, so tasks in other processes take other rows) under a lease
   (``claims``), re-checks each subscriber (an unsubscribe or suppression since the snapshot
   skips the row), and sends them in id order over one of the process's connections
   (``transports``; the message built once, ``message`` and ``wire``), recording each row's
   outcome as soon as the server answers (``recording``). Over SMTP a task sends over
   ``DISPATCH_CONNECTIONS`` connections at once, one thread and one batch each, within what
   the relay allows the whole fleet (``relay``). Tasks run until nothing is left or their time
   is up, then hand over.
3. A row still claimed after its lease ran out belongs to a worker that died. Its batch goes
   back to pending; its lowest row (the message that may have been in flight) is marked so
   that, once sent again, it is recorded as ``uncertain``: possibly received twice.
4. When no row is pending or claimed, the issue becomes sent (``finish``). The scheduler's
   pass (every 15 s) wakes a sending whose tasks went quiet, so a lost task or a restarted
   broker only delays it.
5. Editors pause, resume and cancel a sending (``control``); ``progress`` is what
   ``manage.py dispatch_status``, the sending pages (``pages``) and the dashboard show.

A correction notice (``issues.corrections.correction_notice_send``) is sent the same way, from
its own rows: ``correction_notice_created`` snapshots the subscribers the story's issue went
to (their deliveries sent or uncertain, still subscribed), and the same batches, ledger and
progress follow. The functions take a sending as ``issue_id`` or ``notice_id`` (``ledger``).

Imports run one way, from the top of this list down: ``pages``; ``control``; ``loop``;
``finish``; ``start``, ``progress``, ``recording``, ``wire``; ``claims``, ``message``,
``transports``, ``relay``; ``ledger``. The one way back up is deliberate: ``start`` queues the batch
tasks of ``subscribers.tasks``, which run ``loop``.
"""
