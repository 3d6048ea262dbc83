# One image for web, worker and beat (docker-compose.yml picks the command).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=bellcms.settings.production \
    BELLCMS_VAR_DIR=/var/lib/bellcms

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bellcms ./bellcms
COPY issues ./issues
COPY sources ./sources
COPY subscribers ./subscribers
COPY templates ./templates
COPY static ./static
COPY manage.py ./
RUN pip install --no-cache-dir . \
 && SECRET_KEY=build ALLOWED_HOSTS=build DATABASE_URL=sqlite:////tmp/build.sqlite3 \
    CELERY_BROKER_URL=memory:// EMAIL_URL=dummymail:// CACHE_URL=redis://build:6379/1 \
    BELLCMS_BASE_URL=https://build SUBSCRIBERS_SUPPRESSION_KEY=build \
    python manage.py collectstatic --no-input \
 && useradd --system --home /var/lib/bellcms bellcms && mkdir -p /var/lib/bellcms \
 && chown bellcms /var/lib/bellcms

USER bellcms
EXPOSE 8000
CMD ["gunicorn", "bellcms.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
