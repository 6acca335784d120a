"""Invitations and the organisations' logs in the admin: to read, for support; and the
rules of a team for the memberships staff edit in the admin.

Teams are changed on the Team page, where the rules hold (``agreements.team.domain``).
Staff may still change memberships in the admin (the organisation's page, the person's
page, the list of memberships): ``MembershipAdminForm``, ``MembershipFormSet`` and
``MembershipSaving`` hold them to the same rules (the last administrator stays, a
representative of an SLA awaiting signatures keeps the role) and save additions, changes
and removals through ``domain``, so they are in the organisation's log as well.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _

from ..models import Membership
from . import domain
from .models import Invitation, OrganisationEvent
from .rules import (
    TeamRefused,
    last_admin_refused,
    refuse_losing_last_admin,
    refuse_losing_signing_role,
)


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


class MembershipAdminForm(forms.ModelForm):
    """One membership in the admin, refused where the Team page would refuse it."""

    # In a formset the organisation's last administrator is checked over all its rows
    # at once (``MembershipFormSet``): one row may hand the role to another.
    check_last_admin = True

    class Meta:
        model = Membership
        fields = ["user", "organisation", "role", "job_title", "is_admin"]

    def clean(self):
        cleaned = super().clean()
        if not self.instance.pk:
            return cleaned
        before = Membership.objects.select_related("user", "organisation").get(pk=self.instance.pk)
        for name in ("user", "organisation"):
            if name in cleaned and cleaned[name] != getattr(before, name):
                raise ValidationError(
                    _(
                        "Person und Organisation einer Mitgliedschaft bleiben. Entfernen Sie "
                        "die Mitgliedschaft und legen Sie eine neue an."
                    )
                )
        try:
            if cleaned.get("role") and cleaned["role"] != before.role:
                refuse_losing_signing_role(before, new_role=cleaned["role"])
            if self.check_last_admin and before.is_admin and not cleaned.get("is_admin"):
                refuse_losing_last_admin(before)
        except TeamRefused as refused:
            raise ValidationError(str(refused)) from refused
        return cleaned


class FormsetMembershipForm(MembershipAdminForm):
    check_last_admin = False


class MembershipFormSet(BaseInlineFormSet):
    """The memberships of one organisation or of one person: removals within the rules,
    and every organisation they touch still has an administrator once all rows are saved
    (so one row may hand the role to another in the same save)."""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        deleted = set(self.deleted_forms)
        removed = [form.instance.pk for form in deleted if form.instance.pk]
        try:
            for membership in Membership.objects.filter(pk__in=removed).select_related("user"):
                refuse_losing_signing_role(membership, new_role=None)
            touched = {form.instance.organisation_id for form in self.forms}
            for organisation_id in touched - {None}:
                self._refuse_no_administrator(organisation_id, deleted)
        except TeamRefused as refused:
            raise ValidationError(str(refused)) from refused

    def _refuse_no_administrator(self, organisation_id: int, deleted: set) -> None:
        admins = set(
            Membership.objects.admins()
            .filter(organisation_id=organisation_id)
            .values_list("pk", flat=True)
        )
        rows = [form for form in self.forms if form.instance.organisation_id == organisation_id]
        elsewhere = admins - {form.instance.pk for form in rows}  # rows not on this page
        kept = [
            form
            for form in rows
            if form not in deleted and (form.instance.pk or form.has_changed())
        ]
        if admins and not elsewhere and not any(form.instance.is_admin for form in kept):
            membership = Membership.objects.select_related("user", "organisation")
            raise last_admin_refused(membership.get(pk=min(admins)))


class MembershipSaving:
    """For a ``ModelAdmin`` with a ``MembershipFormSet``: its rows saved through the team's
    domain (additions, changes and removals logged for the organisation). Promotions go first, so an
    administrator may hand the role over in one save."""

    def save_formset(self, request, form, formset, change):
        if formset.model is not Membership:
            return super().save_formset(request, form, formset, change)
        formset.save(commit=False)
        for membership in formset.new_objects:
            domain.membership_add(membership, actor=request.user)
        changes = sorted(formset.changed_objects, key=lambda item: not item[0].is_admin)
        for membership, _fields in changes:
            _change(membership, actor=request.user)
        for membership in formset.deleted_objects:
            domain.membership_remove(membership=membership, actor=request.user)
        return None


def _change(membership: Membership, *, actor) -> None:
    domain.membership_change(
        membership=membership,
        actor=actor,
        role=membership.role,
        job_title=membership.job_title,
        is_admin=membership.is_admin,
    )


class MembershipAdminBase(admin.ModelAdmin):
    """The list of memberships: added, changed and removed through the team's domain."""

    form = MembershipAdminForm

    def save_model(self, request, obj, form, change):
        if change:
            _change(obj, actor=request.user)
        else:
            domain.membership_add(obj, actor=request.user)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # one by one, each within the rules
        return actions

    def delete_view(self, request, object_id, extra_context=None):
        if request.method == "POST":
            membership = self.get_object(request, object_id)
            if membership is not None:
                try:
                    domain.membership_remove(membership=membership, actor=request.user)
                except TeamRefused as refused:
                    messages.error(request, str(refused))
                    return redirect("admin:agreements_membership_change", membership.pk)
                messages.success(request, _("Die Mitgliedschaft wurde entfernt."))
                return redirect("admin:agreements_membership_changelist")
        return super().delete_view(request, object_id, extra_context)
