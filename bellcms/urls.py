from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path

from archive.freshness import archive_page
from archive.sitemaps import SITEMAPS
from archive.views import home, robots_txt
from bellcms.views import favicon

admin.site.site_header = "BellCMS"
admin.site.site_title = "BellCMS"
admin.site.index_title = "Newsroom"

urlpatterns = [
    # The front door is the public archive; the newsroom signs in at /admin/.
    path("", home, name="home"),
    path("archive/", include("archive.urls")),
    path("search/", include("archive.search.urls")),
    path("api/", include("archive.api.urls")),
    path(
        "sitemap.xml",
        archive_page(sitemap, reads=("p",)),
        {"sitemaps": SITEMAPS},
        name="sitemap",
    ),
    path("robots.txt", robots_txt, name="robots_txt"),
    path("admin/", admin.site.urls),
    path("", include("subscribers.urls")),
    # ESP tracking webhooks (bounces, complaints): see docs/subscribers.md.
    path("anymail/", include("anymail.urls")),
    path("favicon.ico", favicon, name="favicon"),
]

# Branded error pages; inside the newsroom, in the admin's chrome (bellcms/errors.py).
handler403 = "bellcms.errors.permission_denied"
handler404 = "bellcms.errors.page_not_found"
