import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bellcms.settings.production")

application = get_asgi_application()

from bellcms.checks import weak_settings_refuse  # noqa: E402  (needs the settings loaded)

weak_settings_refuse("The web server (bellcms.asgi)")
