from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django_tasks_db.apps import TasksAppConfig


class AgreementsConfig(AppConfig):
    name = "agreements"
    verbose_name = _("Leistungsvereinbarungen")

    def ready(self):
        from . import checks, signals  # noqa: F401  (registers the checks, connects the receivers)


class TaskTableConfig(TasksAppConfig):
    """django-tasks-db's app (the task table), named in the admin in the portal's language.

    Django's own way to rename another package's app: INSTALLED_APPS names this class.
    """

    verbose_name = _("Hintergrundaufgaben")
