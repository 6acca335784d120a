"""The background work for staff: every task with its outcome, and every mail sent.

django-tasks-db's own admin lists the task table read-only. Ours replaces it with the
same list, told in the portal's terms: which piece of work a task is for, its attempt,
and its outcome, where a failure that will be retried ("wird wiederholt") is told apart
from a final one ("endgültig fehlgeschlagen"). The filter "Endgültig fehlgeschlagen" is
what staff watch; the action "Erneut versuchen" enqueues such a task once more.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_tasks import TaskResultStatus
from django_tasks_db.admin import DBTaskResultAdmin
from django_tasks_db.models import DBTaskResult

from ..outbox import MailDelivery
from .engine import RETRY_SCHEDULED

FINAL_FAILURE = Q(status=TaskResultStatus.FAILED) & ~Q(exception_class_path=RETRY_SCHEDULED)


class OutcomeFilter(admin.SimpleListFilter):
    title = _("Ergebnis")
    parameter_name = "outcome"

    def lookups(self, request, model_admin):
        return [
            ("failed", _("Endgültig fehlgeschlagen")),
            ("retried", _("Fehlgeschlagen, wird wiederholt")),
            ("pending", _("Wartet oder läuft")),
            ("succeeded", _("Erfolgreich")),
        ]

    def queryset(self, request, queryset):
        match self.value():
            case "failed":
                return queryset.filter(FINAL_FAILURE)
            case "retried":
                return queryset.filter(
                    status=TaskResultStatus.FAILED, exception_class_path=RETRY_SCHEDULED
                )
            case "pending":
                return queryset.filter(
                    status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING]
                )
            case "succeeded":
                return queryset.filter(status=TaskResultStatus.SUCCESSFUL)
        return queryset


admin.site.unregister(DBTaskResult)


@admin.register(DBTaskResult)
class TaskAdmin(DBTaskResultAdmin):
    list_display = [
        "task_name",
        "work",
        "attempt",
        "outcome",
        "enqueued_at",
        "display_run_after",
        "finished_at",
        "error",
    ]
    list_filter = [OutcomeFilter, "queue_name"]
    actions = ["retry"]

    @admin.display(description=_("Arbeit"))
    def work(self, obj: DBTaskResult) -> str:
        """The task's arguments but the attempt: "agreement_id=7", "event_id=12"."""
        kwargs = obj.args_kwargs.get("kwargs", {})
        return ", ".join(f"{name}={value}" for name, value in kwargs.items() if name != "attempt")

    @admin.display(description=_("Versuch"))
    def attempt(self, obj: DBTaskResult) -> int:
        return obj.args_kwargs.get("kwargs", {}).get("attempt", 1)

    @admin.display(description=_("Ergebnis"))
    def outcome(self, obj: DBTaskResult) -> str:
        if obj.status == TaskResultStatus.FAILED:
            if obj.exception_class_path == RETRY_SCHEDULED:
                return _("Fehlgeschlagen, wird wiederholt")
            return _("Endgültig fehlgeschlagen")
        if obj.status == TaskResultStatus.SUCCESSFUL:
            return _("Erfolgreich")
        if obj.status == TaskResultStatus.RUNNING:
            return _("Läuft")
        return _("Wartet")

    @admin.display(description=_("Fehler"))
    def error(self, obj: DBTaskResult) -> str:
        """The last line of the traceback: the error itself (or the retry it scheduled)."""
        lines = obj.traceback.strip().splitlines()
        return lines[-1] if lines else ""

    @admin.action(description=_("Erneut versuchen"), permissions=["retry"])
    def retry(self, request, queryset):
        """Enqueue each task that failed for good once more, from its first attempt."""
        retried = 0
        for obj in queryset.filter(FINAL_FAILURE):
            kwargs = {**obj.args_kwargs["kwargs"]}
            if "attempt" in kwargs:
                kwargs["attempt"] = 1
            obj.task.enqueue(*obj.args_kwargs["args"], **kwargs)
            retried += 1
        self.message_user(
            request,
            ngettext(
                "%(count)d Aufgabe neu eingereiht.", "%(count)d Aufgaben neu eingereiht.", retried
            )
            % {"count": retried},
            messages.SUCCESS if retried else messages.WARNING,
        )

    def has_retry_permission(self, request) -> bool:
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")


@admin.register(MailDelivery)
class MailDeliveryAdmin(admin.ModelAdmin):
    """Read-only: the record of what the portal handed to the mail server."""

    list_display = ["sent_at", "subject", "address", "agreement"]
    list_filter = ["sent_at"]
    search_fields = ["address", "subject", "key"]
    list_select_related = ["agreement__organisation"]
    date_hierarchy = "sent_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
