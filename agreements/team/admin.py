"""Invitations and the organisations' logs in the admin: to read, for support.

Teams are changed on the Team page, where the rules hold (``agreements.team.domain``);
the admin only shows what happened.
"""

from django.contrib import admin

from .models import Invitation, OrganisationEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin):
    list_display = ["email", "organisation", "role", "is_admin", "created_at", "expires_at"]
    list_filter = ["organisation", "role"]
    search_fields = ["email", "organisation__name"]
    list_select_related = ["organisation"]
    exclude = ["nonce"]


@admin.register(OrganisationEvent)
class OrganisationEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "organisation", "action", "actor_name", "subject_name"]
    list_filter = ["organisation", "action"]
    search_fields = ["actor_name", "subject_name", "organisation__name"]
    list_select_related = ["organisation"]
