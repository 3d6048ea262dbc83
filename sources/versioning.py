"""What django-reversion keeps of sources: the public record and descriptors, never the identity
(``SourceIdentity`` is not registered, and nothing registered follows it). A block's citations
and on-the-record note travel in the block's versions, so a story's version holds them."""

import reversion

from issues.versioning import block_versions_follow

from .models import Citation, Descriptor, OnRecord, Source

reversion.register(Source, follow=("descriptors",))
reversion.register(Descriptor)
reversion.register(Citation)
reversion.register(OnRecord)
block_versions_follow("citations", "on_record")
