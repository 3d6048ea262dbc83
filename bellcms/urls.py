from django.contrib import admin
from django.urls import include, path

from bellcms.views import favicon
from issues.views import archive_index

admin.site.site_header = "BellCMS"
admin.site.site_title = "BellCMS"
admin.site.index_title = "Newsroom"

urlpatterns = [
    # The front door is the public archive; the newsroom signs in at /admin/.
    path("", archive_index, name="home"),
    path("archive/", include("issues.urls")),
    path("admin/", admin.site.urls),
    path("", include("subscribers.urls")),
    # ESP tracking webhooks (bounces, complaints): see docs/subscribers.md.
    path("anymail/", include("anymail.urls")),
    path("favicon.ico", favicon, name="favicon"),
]

# Branded error pages; inside the newsroom, in the admin's chrome (bellcms/errors.py).
handler403 = "bellcms.errors.permission_denied"
handler404 = "bellcms.errors.page_not_found"
