"""Fixtures of the sources tests: the newsroom's people and one registered source."""

import pytest

# A name that appears nowhere else: the planted-identity tests look for it everywhere.
PLANTED_NAME = "Zebulon Quartermaine-Vasquez"


def identity(name=PLANTED_NAME, **extra):
    return {
        "name": name,
        "position": "Deputy head of a presidential administration directorate",
        "contacts": "+7 915 555-01-23\nzq.signal.handle",
        **extra,
    }


def source_fields(**extra):
    return {
        "basis": "participant",
        "reliability": "usually",
        "motive": "Disagrees with the war and wants the facts known.",
        "anonymity_reason": "Would be dismissed and prosecuted for disclosing state secrets.",
        **extra,
    }


@pytest.fixture
def newsletter(db):
    from tests.factories import NewsletterFactory

    return NewsletterFactory()


def descriptors_approved(source, editor):
    """An editor approves the descriptions the journalist proposed."""
    from sources.services import descriptor_approve

    for descriptor in source.descriptors.all():
        descriptor_approve(descriptor=descriptor, acting_user=editor)
    return source


@pytest.fixture
def source(journalist, editor):
    """KESTREL, registered by the journalist; an editor approved its descriptions."""
    from sources.services import source_create

    source = source_create(
        acting_user=journalist,
        codename="KESTREL",
        identity=identity(),
        descriptors=["a source with contacts inside the Kremlin", "a Kremlin insider"],
        **source_fields(),
    )
    return descriptors_approved(source, editor)
