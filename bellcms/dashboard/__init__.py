"""The desk's dashboard: the admin's front page (templates/admin/index.html).

It reads from both ``issues`` and ``subscribers``, which is why it lives in the project package
and not in either app (``issues`` never imports ``subscribers``). ``queries`` holds the reads,
``chart`` the audience chart's geometry, ``panels`` what each panel says and who may see it.
See docs/desk.md, "Dashboard".
"""

from .panels import dashboard_for

__all__ = ["dashboard_for"]
