"""A source's versions on the same History and comparison pages as stories (issues.history).

A version holds the public record and, in the same revision, the descriptors; never the
identity, which is not versioned at all.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.text import capfirst
from django.utils.translation import gettext as _
from reversion.models import Version

from issues.history import history_block_notes, history_register
from issues.history.comparing import FieldDiff, ListDiff, VersionDiff
from issues.history.diffing import Item, items_diff, text_diff

from .models import Citation, Descriptor, OnRecord, Source

# The fields compared, in the order the source's page shows them.
FIELDS = ("codename", "basis", "reliability", "status", "motive", "anonymity_reason")


@dataclass(frozen=True)
class SourceSnapshot:
    fields: tuple[tuple[str, str], ...]  # (field name, value in words)
    descriptors: tuple[Item, ...]
    revision: int | None


def _shown(name: str, value) -> str:
    field = Source._meta.get_field(name)
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    return "" if value is None else str(value)


def source_snapshots_load(versions: Sequence[Version]) -> list[SourceSnapshot]:
    """Snapshots of versions of one source, with the descriptors of each revision."""
    by_revision = defaultdict(list)
    for version in Version.objects.get_for_model(Descriptor).filter(
        revision_id__in={version.revision_id for version in versions}
    ):
        by_revision[version.revision_id].append(version.field_dict)
    snapshots = []
    for version in versions:
        data, source_id = version.field_dict, int(version.object_id)
        descriptors = sorted(
            (d for d in by_revision[version.revision_id] if d["source_id"] == source_id),
            key=lambda d: d["id"],
        )
        snapshots.append(
            SourceSnapshot(
                fields=tuple((name, _shown(name, data.get(name))) for name in FIELDS),
                descriptors=tuple(Item(key=d["id"], text=d["text"]) for d in descriptors),
                revision=data.get("revision"),
            )
        )
    return snapshots


def source_compare(old: SourceSnapshot, new: SourceSnapshot) -> VersionDiff:
    old_fields, new_fields = dict(old.fields), dict(new.fields)
    return VersionDiff(
        parts=(
            *(
                FieldDiff(
                    str(capfirst(Source._meta.get_field(name).verbose_name)),
                    text_diff(old_fields[name], new_fields[name]),
                )
                for name in FIELDS
            ),
            ListDiff(_("Descriptors"), items_diff(old.descriptors, new.descriptors)),
        )
    )


def _citation_words(codenames: list[str], descriptor: str) -> str:
    return _("cites %(sources)s: “%(descriptor)s”") % {
        "sources": " + ".join(sorted(codenames)),
        "descriptor": descriptor,
    }


def _on_record_words(note: str) -> str:
    return _("on the record: %(note)s") % {"note": note}


def _joined(notes: dict) -> dict:
    return {key: "; ".join(words) for key, words in notes.items()}


class CitationNotes:
    """Which sources each block cites, by codename, in stories' comparisons (newsroom only)."""

    @staticmethod
    def versions(revision_ids: set[int]) -> dict[tuple[int, int], str]:
        notes = defaultdict(list)
        found = Version.objects.filter(revision_id__in=revision_ids).filter(
            content_type__app_label="sources",
            content_type__model__in=["citation", "onrecord"],
        )
        rows = [
            (version.revision_id, version.content_type.model, version.field_dict)
            for version in found.select_related("content_type")
        ]
        codenames = dict(
            Source.objects.filter(
                pk__in={
                    pk for _r, model, data in rows if model == "citation" for pk in data["sources"]
                }
            ).values_list("pk", "codename")
        )
        for revision_id, model, data in sorted(rows, key=lambda row: row[2]["id"]):
            if model == "citation":
                words = _citation_words(
                    [codenames.get(pk, f"#{pk}") for pk in data["sources"]], data["descriptor"]
                )
            else:
                words = _on_record_words(data["note"])
            notes[(revision_id, data["block_id"])].append(words)
        return _joined(notes)

    @staticmethod
    def now(block_ids: set[int]) -> dict[int, str]:
        notes = defaultdict(list)
        for citation in (
            Citation.objects.filter(block_id__in=block_ids)
            .prefetch_related("sources")
            .order_by("pk")
        ):
            codenames = [source.codename for source in citation.sources.all()]
            notes[citation.block_id].append(_citation_words(codenames, citation.descriptor))
        for mark in OnRecord.objects.filter(block_id__in=block_ids):
            notes[mark.block_id].append(_on_record_words(mark.note))
        return _joined(notes)


def register() -> None:
    history_register(
        model=Source,
        load=source_snapshots_load,
        snapshot_type=SourceSnapshot,
        compare=source_compare,
    )
    history_block_notes(CitationNotes)
