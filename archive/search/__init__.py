"""Full-text search over published stories, at /search/?q=….

One row per story (``StoryDocument``) keeps the story's words as plain text and, on PostgreSQL,
as a stored, weighted ``tsvector`` under a GIN index, in the text search configuration of the
story's newsletter's language. Receivers (``signals``) refresh a story's row once an edit
commits; ``manage.py archive_reindex`` rebuilds them all. Stories of unpublished issues are
indexed too: the embargo is applied when searching (``archive.queries.published_stories``), so
publishing an issue makes its stories findable at once and nothing else ever is.
"""
