"""What django-reversion keeps. A story's version carries its blocks, so reverting a story
brings back its text, its order and its bullet points together; other apps' rows about a block
(the sources app's citations) travel with it through ``block_versions_follow``."""

import reversion

from .models import Block, Issue, Newsletter, Story

reversion.register(Newsletter)
reversion.register(Issue)
reversion.register(Story, follow=("blocks",))
reversion.register(Block)

_block_follows: list[str] = []


def block_versions_follow(*names: str) -> None:
    """Keep the rows behind these reverse relations of ``Block`` (e.g. "citations") in every
    version of the block, and so of its story: a revert brings them back too."""
    _block_follows.extend(name for name in names if name not in _block_follows)
    reversion.unregister(Block)
    reversion.register(Block, follow=tuple(_block_follows))
