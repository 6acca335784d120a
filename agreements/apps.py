from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AgreementsConfig(AppConfig):
    name = "agreements"
    verbose_name = _("Leistungsvereinbarungen")

    def ready(self):
        from . import checks, signals  # noqa: F401  (registers the checks, connects the receivers)
