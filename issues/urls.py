from django.urls import path

from . import views

app_name = "archive"

urlpatterns = [
    path("", views.archive_index, name="index"),
    path("<slug:newsletter_slug>/<int:number>/", views.archive_issue, name="issue"),
]
