"""``issue_import``: a parsed issue file written as one new draft issue, in one transaction;
``issue_import_preview``: what it would write, for a person to check first."""

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import reversion
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Max, Q
from django.utils.text import slugify
from django.utils.translation import gettext as _

from issues.models import Block, Issue, Newsletter, Story

from .document import DEFAULT_TAKEAWAY_LABEL, ParsedIssue, quote
from .errors import IssueImportError
from .parsing import parse_issue_text
from .reading import check_issue_text, read_issue_file

MAX_ISSUE_SLUG = Issue._meta.get_field("slug").max_length
MAX_NEWSLETTER_SLUG = Newsletter._meta.get_field("slug").max_length
# Issue.number is a PositiveIntegerField, which Django promises up to here on every database:
# PostgreSQL refuses anything larger, SQLite would store it. Checking keeps the two alike.
MAX_ISSUE_NUMBER = 2_147_483_647


@dataclass(frozen=True)
class IssueImportPlan:
    """What an import would create, worked out without writing anything (the admin's preview).

    ``newsletter`` is unsaved when the import would create it from the file's kicker.
    """

    newsletter: Newsletter
    number: int
    document: ParsedIssue
    authors: list

    @property
    def creates_newsletter(self) -> bool:
        return self.newsletter.pk is None


def issue_import(
    *,
    path: str | os.PathLike | None = None,
    text: str | None = None,
    filename: str = "",
    newsletter: Newsletter | str | None = None,
    number: int | None = None,
    authors: Iterable[AbstractBaseUser | str] = (),
    markup: str | None = None,
    acting_user: AbstractBaseUser | None = None,
) -> Issue:
    """Import one issue from the file at ``path``, or from ``text`` (named ``filename``).

    ``newsletter`` is a Newsletter or its slug; without it the file's kicker picks the
    newsletter, which is created when none has that kicker. ``number`` defaults to the next
    free one. ``authors`` (users or usernames) become authors of every story; without any, the
    newsletter's default author does, if it has one. ``markup`` is "text", "markdown" or "html",
    detected (text or Markdown) when None. ``acting_user``, when given, must be allowed to add
    issues and is recorded as the revision's user. Everything is written in one transaction and
    one django-reversion revision, so the import is each object's first version; any problem
    raises ``IssueImportError`` and writes nothing.
    """
    if (path is None) == (text is None):
        raise TypeError("issue_import() takes exactly one of path and text")
    filename = filename or (Path(path).name if path is not None else "")
    try:
        _check_acting_user(acting_user)
        source = read_issue_file(path) if path is not None else check_issue_text(text)
        with transaction.atomic(), reversion.create_revision():
            reversion.set_comment(_("Imported from %(name)s") % {"name": filename or _("text")})
            if acting_user is not None:
                reversion.set_user(acting_user)
            plan = _plan(
                source,
                filename=filename,
                newsletter=_newsletter_from_option(newsletter),
                number=number,
                users=_users_from_option(authors),
                markup=markup,
                write=True,
            )
            issue = Issue.objects.create(
                newsletter=plan.newsletter,
                number=plan.number,
                title=plan.document.title,
                slug=_unique_issue_slug(
                    newsletter=plan.newsletter, title=plan.document.title, number=plan.number
                ),
                intro=plan.document.intro,
            )
            _create_stories(issue=issue, document=plan.document, users=plan.authors)
        return issue
    except IssueImportError as exc:
        # Errors name the file as the person typed it; the revision comment only its name.
        exc.filename = str(path) if path is not None else filename
        raise


def issue_import_preview(
    *,
    text: str,
    filename: str = "",
    newsletter: Newsletter | str | None = None,
    number: int | None = None,
    authors: Iterable[AbstractBaseUser | str] = (),
    markup: str | None = None,
    acting_user: AbstractBaseUser | None = None,
) -> IssueImportPlan:
    """What ``issue_import`` would create from ``text`` with the same options, written nowhere.

    Raises the ``IssueImportError`` the import would raise. The import itself checks again: a
    number free now may be taken by the time it runs.
    """
    try:
        _check_acting_user(acting_user)
        return _plan(
            check_issue_text(text),
            filename=filename,
            newsletter=_newsletter_from_option(newsletter),
            number=number,
            users=_users_from_option(authors),
            markup=markup,
            write=False,
        )
    except IssueImportError as exc:
        exc.filename = filename
        raise


def _check_acting_user(acting_user: AbstractBaseUser | None) -> None:
    if acting_user is not None and not acting_user.has_perm("issues.add_issue"):
        raise IssueImportError(_("you may not import issues: only editors add issues"))


def _plan(source, *, filename, newsletter, number, users, markup, write) -> IssueImportPlan:
    """The newsletter, number, content and authors of the issue ``source`` makes. With
    ``write``, inside the import's transaction: a new newsletter is created, and the
    newsletter is locked so that concurrent imports take numbers one after another."""
    if number is not None and not 1 <= number <= MAX_ISSUE_NUMBER:
        raise IssueImportError(
            _("the issue number must be from 1 to %(max)d, not %(n)d")
            % {"max": MAX_ISSUE_NUMBER, "n": number}
        )
    label = newsletter.takeaway_label if newsletter else DEFAULT_TAKEAWAY_LABEL
    document = parse_issue_text(source, markup=markup, filename=filename, takeaway_label=label)
    target = newsletter or _newsletter_for_kicker(document.kicker, create=write)
    if target.takeaway_label != label:
        # Only now is the newsletter, and so the label that closes each story, known.
        document = parse_issue_text(
            source, markup=markup, filename=filename, takeaway_label=target.takeaway_label
        )
    if target.pk is None:  # created by the import; nothing to lock or number after yet
        number = number or 1
    else:
        if write:
            target = Newsletter.objects.select_for_update().get(pk=target.pk)
        number = _issue_number(newsletter=target, number=number)
    if not users and target.default_author_id is not None:
        users = [target.default_author]
    return IssueImportPlan(newsletter=target, number=number, document=document, authors=users)


def _create_stories(*, issue: Issue, document: ParsedIssue, users: list) -> None:
    stories, blocks = [], []
    for position, parsed in enumerate(document.stories, start=1):
        story = Story.objects.create(
            issue=issue, position=position, headline=parsed.headline, takeaway=parsed.takeaway
        )
        story.authors.add(*users)
        stories.append(story)
        blocks.extend(
            Block(story=story, position=index, kind=block.kind, text=block.text)
            for index, block in enumerate(parsed.blocks, start=1)
        )
    Block.objects.bulk_create(blocks)
    # reversion serialised each story, following its blocks, when the story was saved, before
    # bulk_create (which sends no signals) made the blocks: add the stories again, complete.
    for story in stories:
        reversion.add_to_revision(story)


def _newsletter_from_option(newsletter: Newsletter | str | None) -> Newsletter | None:
    if newsletter is None or isinstance(newsletter, Newsletter):
        return newsletter
    found = Newsletter.objects.filter(slug=newsletter).first()
    if found is None:
        slugs = ", ".join(Newsletter.objects.order_by("slug").values_list("slug", flat=True))
        raise IssueImportError(
            _("no newsletter has the slug %(slug)s; existing slugs: %(slugs)s")
            % {"slug": quote(newsletter), "slugs": slugs or _("none yet")}
        )
    return found


def _users_from_option(authors: Iterable[AbstractBaseUser | str]) -> list:
    user_model = get_user_model()
    users = []
    for author in authors:
        if isinstance(author, str):
            user = user_model._default_manager.filter(**{user_model.USERNAME_FIELD: author}).first()
            if user is None:
                raise IssueImportError(
                    _("no user has the username %(name)s") % {"name": quote(author)}
                )
            author = user
        users.append(author)
    return users


def _newsletter_for_kicker(kicker: str, *, create: bool) -> Newsletter:
    """The newsletter with this kicker, or a new one named after it (saved if ``create``)."""
    matches = list(Newsletter.objects.filter(kicker__iexact=kicker))
    if len(matches) > 1:
        raise IssueImportError(
            _("several newsletters have the kicker %(kicker)s (%(slugs)s); choose one by slug")
            % {"kicker": quote(kicker), "slugs": ", ".join(n.slug for n in matches)}
        )
    if matches:
        return matches[0]
    # A kicker is usually set in capitals (“THE BELL WEEKLY”); the name is “The Bell Weekly”.
    name = " ".join(word.capitalize() for word in kicker.split()) if kicker.isupper() else kicker
    slug = slugify(name)[:MAX_NEWSLETTER_SLUG] or "newsletter"
    clash = Newsletter.objects.filter(Q(name__iexact=name) | Q(slug=slug)).first()
    if clash is not None:
        raise IssueImportError(
            _(
                "no newsletter has the kicker %(kicker)s, and one cannot be created because "
                "“%(name)s” (slug %(slug)s, kicker %(other)s) exists; choose a newsletter by slug"
            )
            % {
                "kicker": quote(kicker),
                "name": clash.name,
                "slug": clash.slug,
                "other": quote(clash.kicker),
            }
        )
    newsletter = Newsletter(name=name, slug=slug, kicker=kicker)
    if create:
        newsletter.save()
    return newsletter


def _issue_number(*, newsletter: Newsletter, number: int | None) -> int:
    if number is None:
        highest = newsletter.issues.aggregate(highest=Max("number"))["highest"] or 0
        if highest >= MAX_ISSUE_NUMBER:
            raise IssueImportError(
                _("%(newsletter)s already has the highest issue number, %(max)d; choose a free one")
                % {"newsletter": newsletter.name, "max": MAX_ISSUE_NUMBER}
            )
        return highest + 1
    existing = newsletter.issues.filter(number=number).first()
    if existing is not None:
        raise IssueImportError(
            _("%(newsletter)s already has an issue number %(number)d, %(title)s")
            % {"newsletter": newsletter.name, "number": number, "title": quote(existing.title)}
        )
    return number


def _unique_issue_slug(*, newsletter: Newsletter, title: str, number: int) -> str:
    # Room for a “-99” suffix inside the column.
    base = slugify(title)[: MAX_ISSUE_SLUG - 10].strip("-") or f"issue-{number}"
    taken = set(newsletter.issues.filter(slug__startswith=base).values_list("slug", flat=True))
    slug, suffix = base, 2
    while slug in taken:
        slug, suffix = f"{base}-{suffix}", suffix + 1
    return slug
