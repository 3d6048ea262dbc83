"""The sources app's services: the only code that creates sources, approves how print
describes them, verifies them, grants access and reveals.

Each is keyword-only, checks who acts, and does its work in one transaction. Identities (sealing,
revealing, rotating keys) are in ``sources.identities`` and named here too, so that the public
API is this one module: ``source_create``, ``access_grant``, ``identity_reveal``… (the design's
"Public service API"; ``citation_add`` and ``block_on_record`` are in ``sources.citing``).
"""

import re
from datetime import datetime, timedelta

import reversion
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from .access import user_has_source_perm
from .errors import RevealRefused, SourceRefused
from .identities import (
    IDENTITY_FIELDS,
    identity_clean,
    identity_replace,
    identity_reveal,
    identity_seal,
    sealing_check,
    source_keys_rotate,
)
from .models import AccessGrant, Descriptor, Source

__all__ = [
    "IDENTITY_FIELDS",
    "RevealRefused",
    "SourceRefused",
    "access_grant",
    "access_revoke",
    "anonymity_reason_clean",
    "descriptor_approve",
    "descriptor_is_plural",
    "identity_replace",
    "identity_reveal",
    "sealing_check",
    "source_create",
    "source_keys_rotate",
    "source_possible_duplicates",
    "source_verify",
    "user_approves_descriptors",
]
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
def source_create(
    *, acting_user, codename: str, identity: dict, descriptors: list[str], **fields
) -> Source:
    """Register a source: its public record and descriptors (versioned), its identity (sealed).

    ``fields``: ``basis``, ``reliability``, ``motive``, ``anonymity_reason`` and optionally
    ``handler`` (the acting user by default). Journalists, editors and keepers may create.
    Raises ``SourceRefused``, or ``KeyUnavailable`` when the keys are not set (nothing is
    written then).
    """
    if not user_has_source_perm(acting_user, "add_source"):
        raise SourceRefused(_("You may not register sources."), code="forbidden")
    allowed = {"basis", "reliability", "motive", "anonymity_reason", "handler"}
    if set(fields) - allowed:
        raise SourceRefused(
            _("Unknown fields: %(fields)s.") % {"fields": ", ".join(sorted(set(fields) - allowed))}
        )
    codename = " ".join((codename or "").split())
    texts = _descriptors_clean(descriptors)
    identity = identity_clean(identity)
    fields["anonymity_reason"] = anonymity_reason_clean(fields.get("anonymity_reason", ""))
    fields.setdefault("handler", acting_user)
    # Registering a source for someone else is a keeper's job: an editor who could name any
    # handler could then verify the source himself.
    if fields["handler"] != acting_user and not user_has_source_perm(acting_user, "grant_access"):
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
        identity_seal(source, identity)
        # Again, now that the descriptors exist (bulk_create sends no signal to follow them).
        reversion.add_to_revision(source)
        reversion.set_user(acting_user)
        reversion.set_comment(_("Registered the source."))
    return source


def user_approves_descriptors(user) -> bool:
    return user_has_source_perm(user, "change_descriptor")


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
    if not user_has_source_perm(acting_user, "verify_source"):
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
    if not user_has_source_perm(granted_by, "grant_access"):
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
    if not user_has_source_perm(acting_user, "grant_access"):
        raise SourceRefused(_("Only source keepers revoke access to identities."), code="forbidden")
    changed = AccessGrant.objects.filter(pk=grant.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_by=acting_user
    )
    return bool(changed)
