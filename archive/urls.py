"""The archive's addresses, under /archive/ (namespace ``archive``)."""

from django.urls import path, register_converter

from . import feeds, views


class UnicodeSlugConverter:
    """Story slugs keep the headline's letters, Cyrillic included (``issues.slugs``)."""

    regex = r"[-\w]+"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(UnicodeSlugConverter, "uslug")

app_name = "archive"

urlpatterns = [
    path("", views.issue_list, name="index"),
    path("<slug:newsletter_slug>/", views.issue_list, name="newsletter"),
    path("<slug:newsletter_slug>/rss.xml", feeds.IssuesRss(), name="rss"),
    path("<slug:newsletter_slug>/atom.xml", feeds.IssuesAtom(), name="atom"),
    path("<slug:newsletter_slug>/corrections/", views.corrections, name="corrections"),
    path(
        "<slug:newsletter_slug>/corrections/log.json",
        views.corrections_log,
        name="corrections_log",
    ),
    path(
        "<slug:newsletter_slug>/corrections/rss.xml",
        feeds.CorrectionsRss(),
        name="corrections_rss",
    ),
    path("<slug:newsletter_slug>/<int:number>/", views.issue_detail, name="issue"),
    path(
        "<slug:newsletter_slug>/<int:number>/<uslug:story_slug>/",
        views.story_detail,
        name="story",
    ),
]
