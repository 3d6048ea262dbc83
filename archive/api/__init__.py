"""The archive's read-only public JSON API under /api/v1/ (docs/api.md).

It shows exactly what the archive pages show, through the same doors
(``archive.queries.published_issues`` / ``published_stories``): published issues and their
stories, authors by full name only. Built on Django REST framework, filtered with django-filter,
described by drf-spectacular's OpenAPI schema at /api/v1/schema/.
"""
