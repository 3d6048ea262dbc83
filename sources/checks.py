"""``manage.py check --deploy`` on the source keys: missing ones are a warning (everything but
sources works without them), a master key that is not 32 bytes of url-safe base64 an error."""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from .keys import KeyUnavailable, master_key_decoded

INDEX_KEY_MIN_BYTES = 32


@register(Tags.security, deploy=True)
def check_source_keys(app_configs, **kwargs):
    problems = []
    for name in ("SOURCE_MASTER_KEY", "SOURCE_MASTER_KEY_PREVIOUS"):
        value = getattr(settings, name, "")
        if value:
            try:
                master_key_decoded(name, value)
            except KeyUnavailable as error:
                problems.append(Error(str(error), id="sources.E001"))
    index_key = getattr(settings, "SOURCE_INDEX_KEY", "")
    if index_key and len(index_key.encode()) < INDEX_KEY_MIN_BYTES:
        problems.append(
            Error(
                f"SOURCE_INDEX_KEY is {len(index_key.encode())} bytes long; it needs at least "
                f"{INDEX_KEY_MIN_BYTES}: with a short key, names and phone numbers could be "
                "guessed from their digests in a database dump.",
                hint="Set it once, before the first source is registered; see docs/sources.md.",
                id="sources.E002",
            )
        )
    for name in ("SOURCE_MASTER_KEY", "SOURCE_INDEX_KEY"):
        if not getattr(settings, name, ""):
            problems.append(
                Warning(
                    f"{name} is not set: sources can be neither registered nor revealed "
                    "(everything else works).",
                    hint="See docs/sources.md, 'Keys'.",
                    id="sources.W001",
                )
            )
    return problems
