"""django-tasks-db's app (the task table), named in the admin in the portal's language.

Django's own way to rename another package's app: INSTALLED_APPS names this class
instead of ``django_tasks_db``. It lives here, not in ``agreements/apps.py``, where a
second app config would leave Django unsure which one is the portal's.
"""

from django.utils.translation import gettext_lazy as _
from django_tasks_db.apps import TasksAppConfig


class TaskTableConfig(TasksAppConfig):
    verbose_name = _("Hintergrundaufgaben")
