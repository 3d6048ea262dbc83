"""What the stored inline Markdown may hold, shared by everything that writes or reads it.

Block text, intros and takeaways are CommonMark limited to links, *emphasis* and **strong**
(docs/rendering.md). ``issues.rendering`` shows it to subscribers and ``issues.importing``
rewrites imported Markdown into it; both take their rules from here so they cannot drift apart.
"""

# The only links a subscriber's mail client is sent to; any other URL is not a link.
ALLOWED_URL_SCHEMES = frozenset({"http", "https", "mailto"})
