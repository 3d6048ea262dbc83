"""Public forms. Errors are written for the reader; nothing here reveals a subscription."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from issues.models import Newsletter

from .addresses import EMAIL_MAX_LENGTH, NAME_MAX_LENGTH, email_normalise, name_clean

# Bots fill every field; people never see this one (hidden by CSS, skipped by tab and screen
# readers). Its name sounds like something a form would ask for.
HONEYPOT_FIELD = "website"


class SignupForm(forms.Form):
    email = forms.CharField(
        label=_("Email address"),
        max_length=EMAIL_MAX_LENGTH * 2,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "inputmode": "email"}),
    )
    name = forms.CharField(
        label=_("Name (optional)"),
        required=False,
        max_length=NAME_MAX_LENGTH,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    newsletter = forms.ModelChoiceField(
        label=_("Newsletter"),
        queryset=Newsletter.objects.all(),
        to_field_name="slug",
        empty_label=None,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Choose one of the newsletters listed.")},
    )
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    def __init__(self, *args, newsletter: Newsletter | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if newsletter is not None or self.fields["newsletter"].queryset.count() == 1:
            self.fields["newsletter"].widget = forms.HiddenInput()
            self.fields["newsletter"].initial = (
                newsletter or self.fields["newsletter"].queryset.get()
            ).slug

    def clean_email(self):
        return email_normalise(self.cleaned_data["email"])

    def clean_name(self):
        try:
            return name_clean(self.cleaned_data["name"])
        except ValidationError as error:
            raise ValidationError(error.messages[0]) from None

    @property
    def is_bot(self) -> bool:
        return bool(self.data.get(HONEYPOT_FIELD, ""))


class PreferencesForm(forms.Form):
    newsletters = forms.ModelMultipleChoiceField(
        label=_("Newsletters you receive"),
        queryset=Newsletter.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("Choose among the newsletters listed.")},
    )
