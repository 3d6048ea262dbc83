"""Sources in the admin: the public record for the newsroom, identities only through a logged
reveal, grants and the reveal log for source keepers.

- ``sources``: the source list and page, its descriptors and contact log, the add form (which
  seals the identity at once; it is never shown again there);
- ``reveal``: the reveal page (a grant in force, the password typed again, a reason);
- ``grants``: access grants and the reveal log, for source keepers;
- ``citations``: the page where a story's claims get their sources;
- ``stories``: the badge and filter for stories citing a source in doubt;
- ``editor``: "Cite a source" in the story editor, and the mark on cited blocks.
"""

# The admin is loaded before SourcesConfig.ready(): versions and the History page's reading of
# them must be in place before the model admins that use them.
from .. import history, versioning  # noqa: F401  isort: skip

history.register()

from . import editor, grants, sources, stories  # noqa: E402, F401  (each registers itself)
