"""What django-reversion keeps of a source: its public record and descriptors, never its
identity (``SourceIdentity`` is not registered, and nothing registered follows it)."""

import reversion

from .models import Descriptor, Source

reversion.register(Source, follow=("descriptors",))
reversion.register(Descriptor)
