"""The admin's forms: a story, an issue, and the time an issue goes out.

The story and issue forms carry the revision their page was opened at (``based_on_revision``)
and refuse, under the row's lock, a save based on an older one; the page then shows what the
other person changed (``issues.admin.base``).
"""

from datetime import datetime

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..access import issue_is_locked, issue_locked_reason
from ..models import Block, Issue, Story
from ..ordering import POSITION, PositionedForm, PositionedInlineForm

# A story's place: set by an editor assembling the issue, not part of the story's text.
PLACE_FIELDS = frozenset({"issue", POSITION})

# The value a datetime-local input sends and shows.
LOCAL_INPUT_FORMAT = "%Y-%m-%dT%H:%M"


def newsroom_zone_label(moment: datetime | None = None) -> str:
    """“Europe/Riga, UTC+02:00”: the zone schedules are typed and shown in."""
    local = timezone.localtime(moment or timezone.now())
    offset = local.strftime("%z")
    return f"{settings.TIME_ZONE}, UTC{offset[:3]}:{offset[3:]}"


class ScheduleForm(forms.Form):
    """When an issue should go out, typed in the newsroom's zone."""

    publish_at = forms.DateTimeField(
        label=_("Goes out at"),
        input_formats=[LOCAL_INPUT_FORMAT, "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_INPUT_FORMAT),
        error_messages={
            "required": _("Give the date and time the issue should go out."),
            "invalid": _("Give the date and time as on a calendar, e.g. 2026-01-27 07:00."),
        },
    )


class RevisionCheckedForm(forms.ModelForm):
    """A change form that carries the revision it was opened at and refuses, under the row's
    lock, a save based on an older one. The admin validates inside the save's transaction, so
    the lock holds until the commit; the inline's reordering locks the same row."""

    based_on_revision = forms.IntegerField(widget=forms.HiddenInput, required=False)
    # Set by subclasses: the refusal, with %(current)s and %(based_on)s.
    stale_message = ""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["based_on_revision"].initial = self.instance.revision
        self.stale_seen = None

    def clean(self):
        cleaned_data = super().clean()
        based_on = cleaned_data.get("based_on_revision")
        if self.instance.pk is None or based_on is None:
            return cleaned_data
        # No ordering: a default one joining other tables cannot be locked on PostgreSQL.
        current = (
            type(self.instance)
            .objects.select_for_update()
            .filter(pk=self.instance.pk)
            .order_by()
            .values_list("revision", flat=True)
            .first()
        )
        if current is not None and current != based_on:
            self.stale_seen = based_on
            raise forms.ValidationError(
                self.stale_message,
                code="stale",
                params={"current": current, "based_on": based_on},
            )
        return cleaned_data


class IssueForm(RevisionCheckedForm):
    stale_message = _(
        "Someone else changed this issue (now revision %(current)s) after you "
        "opened revision %(based_on)s. Your changes were not saved: they are still "
        "in the form below, and what changed is shown above. Open the current "
        "version, then redo your changes there."
    )

    class Meta:
        model = Issue
        fields = ("newsletter", "number", "title", "slug", "intro")


def story_place_help_texts(story: Story | None, *, may_place: bool) -> dict[str, str]:
    """The help under a story's issue and position, for where the story is now: which issue it
    is in and who moves it, rather than one text that is wrong half the time. ``may_place``:
    the fields can be changed by this person now (an editor, the issue not scheduled)."""
    issue = story.issue if story is not None and story.issue_id else None
    if issue is None:
        return {
            "issue": gettext("Empty while the story is not yet placed in an issue."),
            POSITION: gettext("Its place once it is in an issue. Leave empty to add it at the end.")
            if may_place
            else gettext("Set by the editors when they place the story in an issue."),
        }
    name = f"“{issue}”"
    if may_place:
        return {
            "issue": gettext(
                "The story is in %(issue)s. Editors move it by choosing another issue here, or "
                "take it out of the issue by emptying the field."
            )
            % {"issue": name},
            POSITION: gettext(
                "Its place among the stories of %(issue)s, 1 first. Leave empty to move it to "
                "the end."
            )
            % {"issue": name},
        }
    return {
        "issue": gettext("The story is in %(issue)s. Editors move it between issues.")
        % {"issue": name},
        POSITION: gettext(
            "Its place among the stories of %(issue)s, 1 first; the editors set the order."
        )
        % {"issue": name},
    }


class StoryPlaceInlineForm(PositionedInlineForm):
    """A story's row on its issue's page, where stories are ordered but never added."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields[POSITION].help_text = _(
            "The story's place in the issue, 1 first: type a number or drag the row."
        )


class BlockInlineForm(PositionedInlineForm):
    class Meta:
        model = Block
        fields = (POSITION, "kind", "text")
        widgets = {"text": forms.Textarea(attrs={"rows": 3, "class": "bell-block-text"})}


class StoryForm(RevisionCheckedForm, PositionedForm):
    stale_message = _(
        "Someone else saved this story (now revision %(current)s) after you opened "
        "revision %(based_on)s. Your changes were not saved: they are still in the "
        "form below, and what the other person changed is shown above. Open the "
        "current version, then redo your changes there."
    )

    class Meta:
        model = Story
        fields = ("headline", "authors", "takeaway", "issue", POSITION)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The fields shown here can be changed; read-only ones take their help from Meta
        # (StoryAdmin.get_form).
        for name, text in story_place_help_texts(self.instance, may_place=True).items():
            if name in self.fields:
                self.fields[name].help_text = text
        for name in PLACE_FIELDS & set(self.fields):
            # The place shown when the form was opened travels with it, so a save can tell a
            # move the user asked for from a place another editor has changed since.
            self.fields[name].show_hidden_initial = True
        if "authors" in self.fields and self.instance.pk:
            # A byline outlives the author's account: current authors stay selectable, or
            # the next save would silently drop a departed colleague from the story.
            field = self.fields["authors"]
            current = field.queryset.model._default_manager.filter(stories=self.instance)
            field.queryset = (field.queryset | current).distinct()

    @property
    def moves_story(self):
        """Did the user change the issue or the position shown to them?"""
        return bool(PLACE_FIELDS & set(self.changed_data))

    @property
    def rewrites_story(self):
        """Did the user change the story itself (not only its place)?"""
        return bool(set(self.changed_data) - PLACE_FIELDS - {"based_on_revision"})

    def clean(self):
        issue = self.cleaned_data.get("issue")
        if "issue" in self.changed_data and issue_is_locked(issue):
            self.add_error("issue", issue_locked_reason(issue))
        return super().clean()
