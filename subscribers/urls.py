from django.urls import path

from . import preview, views
from .dispatch import pages as sending_pages

app_name = "subscribers"

urlpatterns = [
    path("subscribe/", views.signup, name="signup"),
    path("subscribe/check-your-inbox/", views.check_inbox, name="check_inbox"),
    path("subscribe/<slug:slug>/", views.signup, name="signup_newsletter"),
    path("confirm/<str:token>/", views.confirm, name="confirm"),
]
urlpatterns += [
    # Short: the address goes into a List-Unsubscribe header of every email.
    path("u/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("u/<str:token>/preferences-link/", views.preferences_link, name="preferences_link"),
]
urlpatterns += [
    path("preferences/<str:token>/", views.preferences, name="preferences"),
    path("preferences/<str:token>/data/", views.preferences_data, name="preferences_data"),
    path("preferences/<str:token>/erase/", views.preferences_erase, name="preferences_erase"),
]
urlpatterns += [
    path(
        "newsroom/issues/<int:issue_id>/email/",
        preview.issue_email_preview,
        name="issue_email_preview",
    ),
    path(
        "newsroom/issues/<int:issue_id>/sending/",
        sending_pages.issue_sending,
        name="issue_sending",
    ),
    path(
        "newsroom/issues/<int:issue_id>/sending/progress.json",
        sending_pages.issue_sending_progress,
        name="issue_sending_progress",
    ),
    path(
        "newsroom/notices/<int:notice_id>/sending/",
        sending_pages.notice_sending,
        name="notice_sending",
    ),
    path(
        "newsroom/notices/<int:notice_id>/sending/progress.json",
        sending_pages.notice_sending_progress,
        name="notice_sending_progress",
    ),
]
