"""The API's addresses, under /api/ (namespace ``api``); version 1 under /api/v1/."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import SimpleRouter

from . import errors, views

app_name = "api"

router = SimpleRouter()
router.register("newsletters", views.NewsletterViewSet, basename="newsletter")
router.register("issues", views.IssueViewSet, basename="issue")
router.register("stories", views.StoryViewSet, basename="story")

urlpatterns = [
    path("v1/", include(router.urls)),
    path("v1/schema/", SpectacularAPIView.as_view(), name="schema"),
    # Last: only addresses ending in a slash, so that CommonMiddleware still adds a missing one.
    re_path(r"^.*/$", errors.not_found),
]
