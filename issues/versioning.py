"""What django-reversion keeps. A story's version carries its blocks, so reverting a story
brings back its text, its order and its bullet points together."""

import reversion

from .models import Block, Issue, Newsletter, Story

reversion.register(Newsletter)
reversion.register(Issue)
reversion.register(Story, follow=("blocks",))
reversion.register(Block)
