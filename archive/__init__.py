"""The public archive readers use: pages, story permalinks, search, feeds, sitemap, a JSON API
and a static mirror. It reads the editorial models (``issues``) and never writes them; only
published issues and their stories are ever shown (``Issue.objects.published()``)."""
