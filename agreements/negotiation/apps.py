from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NegotiationConfig(AppConfig):
    name = "agreements.negotiation"
    label = "negotiation"
    verbose_name = _("Verhandlung")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import mails  # noqa: F401 - registers the mentions' sweep with tasks_recover
