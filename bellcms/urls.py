from django.contrib import admin
from django.urls import include, path

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
]
