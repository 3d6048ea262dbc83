"""Identities: sealed on the way in, revealed only through the log, re-wrapped on rotation.

An identity is a dict (``name``, ``position``, ``contacts``, ``notes``). It is sealed before
anything is written and comes out only from ``identity_reveal``, after its ``RevealEvent`` is
committed. Nothing here logs, or puts in an exception, any part of one; error reports show no
local variable of a function that holds one (``sensitive_variables``).
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from .access import user_has_source_perm
from .crypto import data_key_new, field_open, field_seal
from .errors import RevealRefused, SourceRefused
from .keys import master_keys
from .matching import blind_digests, contacts_split
from .models import AccessGrant, IdentityDigest, RevealEvent, RevealOutcome, Source, SourceIdentity

IDENTITY_FIELDS = SourceIdentity.SEALED_FIELDS


@sensitive_variables()
def identity_clean(identity: dict) -> dict[str, str]:
    unknown = set(identity or {}) - set(IDENTITY_FIELDS)
    if unknown:
        raise SourceRefused(
            _("An identity has only these fields: %(fields)s.")
            % {"fields": ", ".join(IDENTITY_FIELDS)},
            code="identity",
        )
    clean = {
        "name": " ".join(str(identity.get("name") or "").split()),
        "position": str(identity.get("position") or "").strip(),
        "contacts": "\n".join(contacts_split(identity.get("contacts"))),
        "notes": str(identity.get("notes") or "").strip(),
    }
    if not clean["name"]:
        raise SourceRefused(_("The identity needs the source's real name."), code="identity")
    return clean


@sensitive_variables()
def identity_seal(source: Source, identity: dict[str, str]) -> None:
    """Seal ``identity`` under a new data key and index it; replaces what was sealed before."""
    keys = master_keys()
    digests = blind_digests(identity)  # before writing: a missing index key writes nothing
    data_key = data_key_new()
    SourceIdentity.objects.update_or_create(
        source=source,
        defaults={
            "wrapped_key": keys.wrap(data_key, source_id=source.pk),
            **{
                field: field_seal(data_key, identity[field], source_id=source.pk, field=field)
                for field in IDENTITY_FIELDS
            },
            "sealed_at": timezone.now(),
        },
    )
    source.digests.all().delete()
    IdentityDigest.objects.bulk_create(
        IdentityDigest(source=source, kind=kind, digest=digest) for kind, digest in digests
    )


def sealing_check() -> None:
    """``KeyUnavailable`` now, rather than after a form is filled in, when identities cannot
    be sealed (no master key or index key)."""
    master_keys().wrap(bytes(32), source_id=0)
    blind_digests({"name": "check"})


def _reveal_decision(*, user, source: Source, reason: str, password_confirmed: bool):
    if not (user and user.is_active):
        return None, _("the account is disabled")
    if not reason:
        return None, _("no reason given")
    if not password_confirmed:
        return None, _("the password was not typed again")
    grant = (
        AccessGrant.objects.in_force()
        .filter(source=source, user=user)
        .order_by("-expires_at")
        .first()
    )
    if grant is None:
        return None, _("no access grant in force")
    return grant, ""


@sensitive_variables()
def identity_reveal(
    *, user, source: Source, reason: str, password_confirmed: bool = True
) -> dict[str, str]:
    """The identity of ``source``, for ``user`` who holds a grant in force, for ``reason``.

    ``password_confirmed`` is the admin's word that the person typed their password again
    within ``SOURCE_REVEAL_PASSWORD_SECONDS``; without it the attempt is a refusal.

    Writes a ``RevealEvent`` first, revealed or refused, and commits it before anything is
    decrypted: called inside a transaction it raises ``RuntimeError`` and reveals nothing.
    Raises ``RevealRefused``, or ``KeyUnavailable``
    when the master key is missing or wrong (the event says revealed: access was given).
    """
    reason = (reason or "").strip()
    # Durable: inside another transaction the log row could be rolled back with it after the
    # identity was handed out; Django refuses that nesting (RuntimeError).
    with transaction.atomic(durable=True):
        grant, refusal = _reveal_decision(
            user=user, source=source, reason=reason, password_confirmed=password_confirmed
        )
        RevealEvent.objects.create(
            source=source,
            user=user,
            reason=reason[:2000],
            outcome=RevealOutcome.REVEALED if grant else RevealOutcome.REFUSED,
            refusal=refusal,
            grant=grant,
        )
    if grant is None:
        raise RevealRefused(
            _("You may not see who %(source)s is: %(why)s. Ask a source keeper for access.")
            % {"source": source.codename, "why": refusal},
            code="refused",
        )
    sealed = SourceIdentity.objects.get(source=source)
    data_key = master_keys().unwrap(sealed.wrapped_key, source_id=source.pk)
    return {
        field: field_open(data_key, getattr(sealed, field), source_id=source.pk, field=field)
        for field in IDENTITY_FIELDS
    }


@sensitive_variables()
def identity_replace(*, source: Source, acting_user, identity: dict) -> None:
    """Seal a corrected identity in place of the old one (the handler, or a source keeper).
    Nothing is revealed, and the old one cannot be read any more."""
    if not (
        acting_user.pk == source.handler_id or user_has_source_perm(acting_user, "grant_access")
    ):
        raise SourceRefused(
            _("Only the handler and source keepers change an identity."), code="forbidden"
        )
    identity = identity_clean(identity)
    with transaction.atomic():
        identity_seal(Source.objects.select_for_update().get(pk=source.pk), identity)


@sensitive_variables()
def source_keys_rotate(*, reseal: bool = False, progress=None) -> tuple[int, int]:
    """Re-wrap every data key under the current master key (``SOURCE_MASTER_KEY``), opening
    those under the previous one with ``SOURCE_MASTER_KEY_PREVIOUS``. Returns (changed,
    already current).

    Without ``reseal`` identities are not decrypted: only their data keys are wrapped anew, so
    whoever kept the old master key and an old copy of a wrapped key could still open today's
    ciphertext. With ``reseal`` every identity gets a new data key and is sealed again (it is
    decrypted in this process to do so, and not logged as a reveal: nobody sees it): after a
    suspected leak of the master key, this is the rotation to run.
    """
    keys = master_keys()
    changed = current = 0
    ids = list(SourceIdentity.objects.order_by("pk").values_list("pk", flat=True))
    for done, source_id in enumerate(ids, start=1):
        with transaction.atomic():
            sealed = SourceIdentity.objects.select_for_update().get(pk=source_id)
            if keys.is_current(sealed.wrapped_key) and not reseal:
                current += 1
            else:
                data_key = keys.unwrap(sealed.wrapped_key, source_id=source_id)
                if reseal:
                    new_key = data_key_new()
                    for field in IDENTITY_FIELDS:
                        plain = field_open(
                            data_key, getattr(sealed, field), source_id=source_id, field=field
                        )
                        setattr(
                            sealed,
                            field,
                            field_seal(new_key, plain, source_id=source_id, field=field),
                        )
                    data_key = new_key
                sealed.wrapped_key = keys.wrap(data_key, source_id=source_id)
                sealed.save()
                changed += 1
        if progress:
            progress(done, len(ids))
    return changed, current
