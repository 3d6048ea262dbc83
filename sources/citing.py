"""Citations: which sources a block's claim rests on, and how print describes them.

Citing is an edit of the story: it goes into the story's next version (the block follows its
citations), counts as a new revision, and takes back an approval, as any edit does. The review
check (``story_review_check``, connected to ``issues.signals.story_review_checks``) refuses to
submit or approve a story while a block that attributes to a source cites none and is not
marked on the record.
"""

import reversion
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from issues.access import story_edit_refusal
from issues.attribution import attributed_blocks, attribution_problem
from issues.models import Block, Story
from issues.services import story_edited

from .consequences import story_doubts, story_sources_doubted
from .errors import SourceRefused
from .models import Citation, OnRecord, Source, SourceStatus

# Blocks that state something; headings only announce.
CITABLE_KINDS = frozenset({Block.Kind.PARAGRAPH, Block.Kind.BULLET})
# Sources that can no longer be cited for a new claim.
UNCITABLE_STATUSES = frozenset({SourceStatus.BURNED})


def _block_editable(block: Block, acting_user) -> Story:
    story = Story.objects.select_for_update().get(pk=block.story_id)
    refusal = story_edit_refusal(user=acting_user, story=story)
    if refusal:
        raise SourceRefused(refusal, code="forbidden")
    if block.kind not in CITABLE_KINDS:
        raise SourceRefused(_("Only paragraphs and bullet points cite sources."), code="kind")
    return story


def _story_revised(story: Story, acting_user) -> None:
    """A new revision of the story, with its state in the current reversion revision."""
    Story.objects.filter(pk=story.pk).update(revision=F("revision") + 1)
    story.refresh_from_db(fields=["revision"])
    story_edited(story=story, acting_user=acting_user)
    reversion.add_to_revision(story)
    reversion.set_user(acting_user)


def _descriptor_check(sources: list[Source], descriptor: str) -> str:
    descriptor = " ".join((descriptor or "").split())
    plural = False
    for source in sources:
        approved = {
            text.casefold(): is_plural
            for text, is_plural in source.descriptors.filter(approved_by__isnull=False).values_list(
                "text", "plural"
            )
        }
        if descriptor.casefold() not in approved:
            raise SourceRefused(
                _("“%(descriptor)s” is not a description approved for %(source)s.")
                % {"descriptor": descriptor, "source": source.codename},
                code="descriptor",
            )
        # Whether it speaks of several people is the approving editor's word.
        plural = plural or approved[descriptor.casefold()]
    if plural and len(sources) < 2:
        raise SourceRefused(
            _("“%(descriptor)s” speaks of more than one source: cite two different sources.")
            % {"descriptor": descriptor},
            code="plural",
        )
    if not plural and len(sources) > 1:
        raise SourceRefused(
            _("“%(descriptor)s” speaks of one source: cite one, or choose a plural description.")
            % {"descriptor": descriptor},
            code="plural",
        )
    return descriptor


def citation_add(*, block: Block, sources, descriptor: str, acting_user) -> Citation:
    """Cite ``sources`` for ``block``, described in print as ``descriptor``: a description
    approved for each of them; a plural one (“sources say”) needs two different sources.
    Whoever may edit the story may cite. Raises ``SourceRefused``."""
    sources = list({source.pk: source for source in sources}.values())
    if not sources:
        raise SourceRefused(_("Choose the source the claim rests on."), code="sources")
    stopped = [source for source in sources if source.status in UNCITABLE_STATUSES]
    if stopped:
        raise SourceRefused(
            _("%(source)s is %(status)s: it cannot be cited.")
            % {"source": stopped[0].codename, "status": stopped[0].get_status_display().lower()},
            code="status",
        )
    with transaction.atomic(), reversion.create_revision():
        story = _block_editable(block, acting_user)
        descriptor = _descriptor_check(sources, descriptor)
        citation = Citation.objects.create(
            block=block, descriptor=descriptor, created_by=acting_user
        )
        citation.sources.set(sources)
        OnRecord.objects.filter(block=block).delete()
        _story_revised(story, acting_user)
        story_sources_doubted(
            story=story,
            sources=sources,
            acting_user=acting_user,
            note=_("cited in %(kind)s %(position)s")
            % {"kind": block.get_kind_display().lower(), "position": block.position},
        )
        reversion.set_comment(
            _("Cited %(sources)s for %(kind)s %(position)s.")
            % {
                "sources": ", ".join(source.codename for source in sources),
                "kind": block.get_kind_display().lower(),
                "position": block.position,
            }
        )
    return citation


def citation_remove(*, citation: Citation, acting_user) -> None:
    """Take a citation off its block (an edit of the story, as adding it was)."""
    with transaction.atomic(), reversion.create_revision():
        story = _block_editable(citation.block, acting_user)
        citation.delete()
        _story_revised(story, acting_user)
        reversion.set_comment(_("Removed a citation."))


def block_on_record(*, block: Block, note: str, acting_user) -> OnRecord:
    """Mark a block that attributes as on the record (a named person, a public document): it
    needs no citation, and ``note`` says why."""
    note = (note or "").strip()
    if not note:
        raise SourceRefused(
            _("Say who or what is on the record, e.g. “quotes the Kremlin spokesman”."),
            code="note",
        )
    with transaction.atomic(), reversion.create_revision():
        story = _block_editable(block, acting_user)
        marked, _created = OnRecord.objects.update_or_create(
            block=block, defaults={"note": note, "marked_by": acting_user}
        )
        _story_revised(story, acting_user)
        reversion.set_comment(_("Marked a block on the record."))
    return marked


def unsourced_blocks(*, story: Story) -> list[Block]:
    """The story's blocks that attribute to a source but cite none and are not on record."""
    blocks = attributed_blocks(story=story)
    covered = set(
        Citation.objects.filter(block__in=blocks).values_list("block_id", flat=True)
    ) | set(OnRecord.objects.filter(block__in=blocks).values_list("block_id", flat=True))
    return [block for block in blocks if block.pk not in covered]


def story_review_check(sender, *, story: Story, transition: str, **kwargs) -> list[str]:
    """For ``issues.signals.story_review_checks``: a problem for each unsourced block and, at
    approval, for each cited source put in doubt and not yet cleared by an editor."""
    problems = [attribution_problem(block) for block in unsourced_blocks(story=story)]
    if transition == "approve":
        problems += [
            _("%(source)s, which it cites, is %(status)s: an editor must clear the flag first")
            % {"source": doubt.source.codename, "status": doubt.source.get_status_display().lower()}
            for doubt in story_doubts(story=story)
        ]
    return problems
