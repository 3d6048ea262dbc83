"""A static copy of the public archive for mirrors (``manage.py export_static DIR``).

Pages, feeds, sitemap, the stylesheets they use, and a search page answered in the reader's
browser from a prebuilt index, with relative links: the copy works from any host, any
sub-path and ``file://``. Reruns rewrite only what changed (``building``).
"""

from .building import ExportReport, archive_export
from .errors import ExportError

__all__ = ["ExportError", "ExportReport", "archive_export"]
