from django.urls import path

from . import views

app_name = "subscribers"

urlpatterns = [
    path("subscribe/", views.signup, name="signup"),
    path("subscribe/check-your-inbox/", views.check_inbox, name="check_inbox"),
    path("subscribe/<slug:slug>/", views.signup, name="signup_newsletter"),
    path("confirm/<str:token>/", views.confirm, name="confirm"),
]
