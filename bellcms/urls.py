from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

admin.site.site_header = "BellCMS"
admin.site.site_title = "BellCMS"
admin.site.index_title = "Newsroom"

urlpatterns = [
    # The public archive comes with the publishing work; until then the front door is the admin.
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("admin/", admin.site.urls),
    path("", include("subscribers.urls")),
    # ESP tracking webhooks (bounces, complaints): see docs/subscribers.md.
    path("anymail/", include("anymail.urls")),
]
