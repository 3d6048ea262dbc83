"""Comparing versions of stories and issues, for the admin's History page.

``diffing`` compares texts word by word and ordered lists entry by entry; ``comparing`` turns
stored versions into snapshots and snapshots into a diff; ``loading`` reads the versions from
django-reversion; ``admin`` adds the From/To columns and the comparison page to a model admin.
"""
