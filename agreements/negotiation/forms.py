"""The comment forms: a new thread on a section, a reply, an edit. Plain text only."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import COMMENT_MAX_LENGTH
from .sections import SECTION_CHOICES


class CommentForm(forms.Form):
    body = forms.CharField(
        label=_("Kommentar"),
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Reiner Text. Mit @Name erwähnen Sie ein Mitglied; es erhält eine E-Mail."),
        error_messages={
            "required": _("Bitte schreiben Sie einen Kommentar."),
            "max_length": _("Ein Kommentar hat höchstens %(limit_value)d Zeichen."),
        },
    )


class ThreadForm(CommentForm):
    section = forms.ChoiceField(
        label=_("Abschnitt"),
        choices=SECTION_CHOICES,
        error_messages={"invalid_choice": _("Bitte wählen Sie einen Abschnitt des SLA.")},
    )
    field_order = ["section", "body"]
