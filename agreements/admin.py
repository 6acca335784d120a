"""Admin for the administrator: organisations, people and (read-mostly) agreements."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _

from .models import (
    Agreement,
    AuditEvent,
    FurtherDefinition,
    Membership,
    Organisation,
    PeriodActuals,
    Reminder,
    Signature,
)
from .permissions import content_editable
from .team.admin import (
    FormsetMembershipForm,
    MembershipAdminBase,
    MembershipFormSet,
    MembershipSaving,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    form = FormsetMembershipForm
    formset = MembershipFormSet
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Organisation)
class OrganisationAdmin(MembershipSaving, admin.ModelAdmin):
    list_display = ["name", "require_sso", "require_signing_second_factor", "created_at"]
    list_filter = ["require_sso", "require_signing_second_factor"]
    search_fields = ["name"]
    fields = ["name", "require_sso", "require_signing_second_factor"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(MembershipAdminBase):
    list_display = ["user", "organisation", "role", "is_admin", "job_title"]
    list_filter = ["role", "is_admin", "organisation"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "organisation__name"]
    list_select_related = ["user", "organisation"]
    autocomplete_fields = ["user", "organisation"]


def is_editable(agreement) -> bool:
    """A new agreement, or a draft: a submitted or signed one is frozen (permissions)."""
    return agreement is None or content_editable(agreement)


class FurtherDefinitionInline(admin.TabularInline):
    model = FurtherDefinition
    extra = 0

    # ``obj`` is the agreement the inline belongs to.
    def has_add_permission(self, request, obj=None):
        return is_editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return is_editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return is_editable(obj) and super().has_delete_permission(request, obj)


@admin.register(Agreement)
class AgreementAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "organisation",
        "status",
        "start_date",
        "end_date",
        "marketing_representative",
        "sales_representative",
        "updated_at",
    ]
    list_filter = ["status", "organisation", "start_date"]
    search_fields = ["organisation__name", "geographic_unit", "group_subgroup", "system_name"]
    list_select_related = ["organisation", "marketing_representative", "sales_representative"]
    date_hierarchy = "start_date"
    readonly_fields = [
        "status",
        "revision",
        "created_at",
        "created_by",
        "updated_at",
        "updated_by",
        "content_sha256",
        "submitted_at",
        "completed_at",
    ]
    autocomplete_fields = ["organisation", "marketing_representative", "sales_representative"]
    inlines = [FurtherDefinitionInline]
    fieldsets = [
        (None, {"fields": ["organisation", "status", "revision", "renews"]}),
        (
            _("2. Geltungsbereich"),
            {"fields": ["start_date", "end_date", "geographic_unit", "group_subgroup"]},
        ),
        (
            _("3. Parteien"),
            {
                "fields": [
                    "marketing_function",
                    "marketing_representative",
                    "sales_function",
                    "sales_representative",
                ]
            },
        ),
        (_("4. Rahmen"), {"fields": ["system_name", "system_created_on"]}),
        (
            _("5. Definitionen"),
            {
                "classes": ["collapse"],
                "fields": [
                    "definition_visits",
                    "definition_contacts",
                    "definition_leads",
                    "definition_prospects",
                    "definition_mql",
                    "definition_sql",
                    ("rate_x_stage", "rate_y_stage"),
                    "definition_rate_xy",
                    "rate_z_stage",
                    "definition_rate_yz",
                    "definition_close_rate",
                    "definition_attribution",
                    "definition_deal_stages",
                    "definition_closed_won",
                    "definition_revenue",
                ],
            },
        ),
        (
            _("6./7. Zielsetzungen und Metriken"),
            {
                "fields": [
                    ("sql_target", "sql_period"),
                    "response_time_hours",
                    "report_back",
                    ("metric_sql", "metric_revenue", "metric_other"),
                ]
            },
        ),
        (
            _("8. Verantwortungsbereiche"),
            {
                "fields": [
                    ("marketing_responsible", "marketing_deputy"),
                    ("sales_responsible", "sales_deputy"),
                ]
            },
        ),
        (
            _("9.–11. Reporting, Performance-Optimierung, Erneuerung"),
            {
                "fields": [
                    ("reporting_channel", "reporting_channel_other"),
                    ("reporting_audience", "reporting_audience_other"),
                    "exchange_interval",
                    "renewal_date",
                ]
            },
        ),
        (
            _("Anhang: Funnel"),
            {
                "fields": [
                    "funnel_visits",
                    "funnel_target_accounts",
                    "funnel_mql",
                    "funnel_prospects",
                    "funnel_sql",
                    "funnel_customers",
                ]
            },
        ),
        (_("Verlauf"), {"fields": ["created_at", "created_by", "updated_at", "updated_by"]}),
        (_("Unterzeichnung"), {"fields": ["content_sha256", "submitted_at", "completed_at"]}),
    ]

    # The status changes only through agreements.workflow; once submitted, the content is
    # frozen here as on every other path.
    def has_change_permission(self, request, obj=None):
        return is_editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return is_editable(obj) and super().has_delete_permission(request, obj)


User = get_user_model()


class UserMembershipInline(admin.TabularInline):
    model = Membership
    form = FormsetMembershipForm
    formset = MembershipFormSet
    extra = 0
    autocomplete_fields = ["organisation"]


admin.site.unregister(User)


@admin.register(User)
class PortalUserAdmin(MembershipSaving, UserAdmin):
    inlines = [UserMembershipInline]
    list_display = ["username", "first_name", "last_name", "email", "is_staff", "is_active"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown, never written: these rows are evidence, created only by agreements.workflow."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = [
        "agreement",
        "sequence",
        "action",
        "actor_name",
        "created_at",
        "ip_address",
        "short_hash",
    ]
    list_filter = ["action", "created_at", "agreement__organisation"]
    search_fields = ["actor_name", "agreement__organisation__name", "hash"]
    list_select_related = ["agreement__organisation"]
    date_hierarchy = "created_at"
    ordering = ["agreement", "sequence"]

    @admin.display(description=_("Hash"))
    def short_hash(self, obj):
        return obj.hash[:12]


@admin.register(Signature)
class SignatureAdmin(ReadOnlyAdmin):
    list_display = [
        "agreement",
        "party",
        "user",
        "typed_name",
        "signed_at",
        "ip_address",
        "is_valid",
        "voided_at",
    ]
    list_filter = ["party", ("voided_at", admin.EmptyFieldListFilter), "signed_at"]
    search_fields = ["typed_name", "user__username", "agreement__organisation__name"]
    list_select_related = ["agreement__organisation", "user"]
    date_hierarchy = "signed_at"

    @admin.display(description=_("Gültig"), boolean=True)
    def is_valid(self, obj):
        return obj.is_valid


@admin.register(PeriodActuals)
class PeriodActualsAdmin(ReadOnlyAdmin):
    """The figures are the teams' own, entered and imported on the goals pages."""

    list_display = [
        "agreement",
        "period_start",
        "period_end",
        "sqls_handed_over",
        "leads_in_time",
        "updated_by",
        "updated_at",
    ]
    list_filter = ["agreement__organisation", "period_start"]
    list_select_related = ["agreement__organisation", "updated_by"]


@admin.register(Reminder)
class ReminderAdmin(ReadOnlyAdmin):
    """What ``send_reminders`` sent, so it never sends the same reminder twice a day."""

    list_display = ["agreement", "kind", "recipient", "sent_on"]
    list_filter = ["kind", "sent_on"]
    list_select_related = ["agreement__organisation", "recipient"]
    date_hierarchy = "sent_on"


# The task table and the sent mails (agreements.tasks.admin), registered with the rest.
from .tasks import admin as tasks_admin  # noqa: E402, F401
