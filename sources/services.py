"""The sources app's services: the only code that creates sources, grants access and reveals.

Each is keyword-only, checks who acts, and does its work in one transaction. Identities go in
as a dict (``name``, ``position``, ``contacts``, ``notes``) and are sealed before anything is
written; they come out only from ``identity_reveal``, after its ``RevealEvent`` is written.
Nothing here logs, or puts in an exception, any part of an identity.
"""

import re
from datetime import datetime, timedelta

import reversion
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from .crypto import data_key_new, field_open, field_seal
from .keys import master_keys
from .matching import blind_digests, contacts_split
from .models import (
    AccessGrant,
    Descriptor,
    IdentityDigest,
    RevealEvent,
    RevealOutcome,
    Source,
    SourceIdentity,
)

IDENTITY_FIELDS = SourceIdentity.SEALED_FIELDS
# A grant is for a story, not for ever: keepers give one for at most this long.
GRANT_LONGEST = timedelta(days=90)
# What people write when they have not said why; none of it is a reason on its own.
_ANONYMITY_BOILERPLATE = re.compile(
    r"\b(?:(?:the\s+)?source\s+)?(?:has\s+|had\s+)?(?:requested|asked\s+for|asked|wants|wanted|"
    r"wished|spoke\s+on\s+(?:the\s+)?condition\s+of|on\s+(?:the\s+)?condition\s+of|"
    r"insisted\s+on|demanded|prefers|preferred)\s*(?:to\s+)?(?:remain\s+|stay\s+|be\s+)?"
    r"(?:anonymity|anonymous|not\s+to\s+be\s+named|not\s+be\s+named|unnamed)\b",
    re.IGNORECASE,
)
# Words of the reason left after the boilerplate, at the least.
ANONYMITY_REASON_MIN_WORDS = 4
_PLURAL = re.compile(
    r"\b(?:sources|people|officials|insiders|colleagues|acquaintances|two|three|four|several|"
    r"many|both|some)\b",
    re.IGNORECASE,
)


class SourceRefused(Exception):
    """A change to sources that may not be made; the message says why, to the person acting."""

    def __init__(self, message: str, *, code: str = "refused"):
        super().__init__(message)
        self.message = message
        self.code = code


class RevealRefused(SourceRefused):
    """An identity the person may not see now. The refusal is in the reveal log already."""


def descriptor_is_plural(text: str) -> bool:
    """Whether a descriptor speaks of more than one person (“sources say”, “two officials”)."""
    return bool(_PLURAL.search(text))


def anonymity_reason_clean(text: str) -> str:
    """The reason, or ``SourceRefused`` when it says no more than “requested anonymity”."""
    text = (text or "").strip()
    remainder = _ANONYMITY_BOILERPLATE.sub(" ", text)
    words = re.findall(r"\w+", remainder)
    if len(words) < ANONYMITY_REASON_MIN_WORDS:
        raise SourceRefused(
            _(
                "Say what the source risks if named (dismissal, prosecution, danger to family…): "
                "“requested anonymity” alone is not a reason."
            ),
            code="anonymity_reason",
        )
    return text


def _descriptors_clean(descriptors) -> list[str]:
    if isinstance(descriptors, str):
        descriptors = [descriptors]
    texts = list(dict.fromkeys(" ".join((text or "").split()) for text in descriptors or []))
    texts = [text for text in texts if text]
    if not texts:
        raise SourceRefused(
            _("Give at least one description approved for print, e.g. “a source close to…”."),
            code="descriptors",
        )
    too_long = [text for text in texts if len(text) > Descriptor._meta.get_field("text").max_length]
    if too_long:
        raise SourceRefused(_("A description may be at most 200 characters."), code="descriptors")
    return texts


@sensitive_variables()
def _identity_clean(identity: dict) -> dict[str, str]:
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


def _has_perm(user, codename: str) -> bool:
    return bool(user and user.is_active and user.has_perm(f"sources.{codename}"))


@sensitive_variables()
def _identity_seal(source: Source, identity: dict[str, str]) -> None:
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


@sensitive_variables()
def source_create(
    *, acting_user, codename: str, identity: dict, descriptors: list[str], **fields
) -> Source:
    """Register a source: its public record and descriptors (versioned), its identity (sealed).

    ``fields``: ``basis``, ``reliability``, ``motive``, ``anonymity_reason`` and optionally
    ``handler`` (the acting user by default). Journalists, editors and keepers may create.
    Raises ``SourceRefused``, or ``KeyUnavailable`` when the keys are not set (nothing is
    written then).
    """
    if not _has_perm(acting_user, "add_source"):
        raise SourceRefused(_("You may not register sources."), code="forbidden")
    allowed = {"basis", "reliability", "motive", "anonymity_reason", "handler"}
    if set(fields) - allowed:
        raise SourceRefused(
            _("Unknown fields: %(fields)s.") % {"fields": ", ".join(sorted(set(fields) - allowed))}
        )
    codename = " ".join((codename or "").split())
    texts = _descriptors_clean(descriptors)
    identity = _identity_clean(identity)
    fields["anonymity_reason"] = anonymity_reason_clean(fields.get("anonymity_reason", ""))
    fields.setdefault("handler", acting_user)
    # Registering a source for someone else is a keeper's job: an editor who could name any
    # handler could then verify the source himself.
    if fields["handler"] != acting_user and not _has_perm(acting_user, "grant_access"):
        raise SourceRefused(_("You register sources you bring yourself."), code="handler")
    with transaction.atomic(), reversion.create_revision():
        if not codename or Source.objects.filter(codename__iexact=codename).exists():
            raise SourceRefused(
                _("Choose another codename: that one is empty or taken."), code="codename"
            )
        source = Source(codename=codename, **fields)
        source.full_clean(exclude=["handler"])
        source.save()
        # An editor's or keeper's descriptions are approved as they write them; a
        # journalist's wait for an editor.
        approver = acting_user if user_approves_descriptors(acting_user) else None
        Descriptor.objects.bulk_create(
            Descriptor(
                source=source,
                text=text,
                plural=descriptor_is_plural(text),
                approved_by=approver,
                approved_at=timezone.now() if approver else None,
            )
            for text in texts
        )
        _identity_seal(source, identity)
        # Again, now that the descriptors exist (bulk_create sends no signal to follow them).
        reversion.add_to_revision(source)
        reversion.set_user(acting_user)
        reversion.set_comment(_("Registered the source."))
    return source


def user_approves_descriptors(user) -> bool:
    return _has_perm(user, "change_descriptor")


def descriptor_approve(*, descriptor: Descriptor, acting_user, plural: bool | None = None):
    """Agree that print may describe the source so (editors and keepers), saying whether the
    words speak of one person or several (a guess from the words until then)."""
    if not user_approves_descriptors(acting_user):
        raise SourceRefused(
            _("Only editors approve how print describes a source."), code="forbidden"
        )
    with transaction.atomic(), reversion.create_revision():
        current = Descriptor.objects.select_for_update().get(pk=descriptor.pk)
        if plural is not None:
            current.plural = plural
        current.approved_by, current.approved_at = acting_user, timezone.now()
        current.save()
        reversion.set_user(acting_user)
        reversion.set_comment(_("Approved the description “%(text)s”.") % {"text": current.text})
    return current


def source_possible_duplicates(*, source: Source) -> list[Source]:
    """Other sources whose name or a contact matches this one's, by blind index only."""
    digests = source.digests.values_list("digest", flat=True)
    return list(
        Source.objects.filter(digests__digest__in=list(digests))
        .exclude(pk=source.pk)
        .distinct()
        .order_by("codename")
    )


def source_verify(*, source: Source, acting_user) -> Source:
    """Record that an editor other than the handler knows who the source is."""
    if not _has_perm(acting_user, "verify_source"):
        raise SourceRefused(_("Only editors verify sources."), code="forbidden")
    with transaction.atomic(), reversion.create_revision():
        current = Source.objects.select_for_update().get(pk=source.pk)
        if current.handler_id == acting_user.pk:
            raise SourceRefused(
                _("The handler cannot verify their own source: another editor must."),
                code="own_source",
            )
        current.verified_by, current.verified_at = acting_user, timezone.now()
        current.revision += 1
        current.save()
        reversion.set_user(acting_user)
        reversion.set_comment(_("Verified the source."))
    return current


def access_grant(
    *, source: Source, user, granted_by, reason: str, expires_at: datetime
) -> AccessGrant:
    """Let ``user`` reveal ``source``'s identity until ``expires_at`` (at most 90 days ahead).
    Only source keepers grant."""
    if not _has_perm(granted_by, "grant_access"):
        raise SourceRefused(_("Only source keepers grant access to identities."), code="forbidden")
    reason = (reason or "").strip()
    if not reason:
        raise SourceRefused(_("Say why this person needs to know."), code="reason")
    now = timezone.now()
    if not now < expires_at <= now + GRANT_LONGEST:
        raise SourceRefused(
            _("A grant must expire in the future, within 90 days."), code="expires_at"
        )
    if not user.is_active:
        raise SourceRefused(_("That account is disabled."), code="inactive")
    return AccessGrant.objects.create(
        source=source, user=user, granted_by=granted_by, reason=reason, expires_at=expires_at
    )


def access_revoke(*, grant: AccessGrant, acting_user) -> bool:
    """End a grant now. Returns False when it had ended already."""
    if not _has_perm(acting_user, "grant_access"):
        raise SourceRefused(_("Only source keepers revoke access to identities."), code="forbidden")
    changed = AccessGrant.objects.filter(pk=grant.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_by=acting_user
    )
    return bool(changed)


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
    if not (acting_user.pk == source.handler_id or _has_perm(acting_user, "grant_access")):
        raise SourceRefused(
            _("Only the handler and source keepers change an identity."), code="forbidden"
        )
    identity = _identity_clean(identity)
    with transaction.atomic():
        _identity_seal(Source.objects.select_for_update().get(pk=source.pk), identity)


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
