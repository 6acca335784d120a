"""What moves ``Organisation.updated_at`` besides a save of the organisation itself.

The dashboard keeps its rendered list under a key made of the ``updated_at`` of the
user's organisations and of their latest agreements (``views.lists.dashboard``). The list
also shows the names of the organisation's people, and it counts the agreements: a change
of a member's name and a deleted agreement (an admin may delete a draft) must move it too.

These are the portal's only signal receivers (connected in ``apps.py``), and their one
side effect is that stamp: one UPDATE of the user's organisations. They serve only the
kept list, which earns its place (2.5 times as fast, bench/results.md "Caches"); without
it they would go too.
"""

from django.conf import settings
from django.db.models.signals import post_delete, post_save, pre_delete
from django.dispatch import receiver
from django.utils import timezone

from .models import Agreement, Organisation

# The fields of a user that the portal's pages show as their name.
NAME_FIELDS = frozenset({"first_name", "last_name", "username"})


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def user_saved(sender, instance, created, update_fields, **kwargs):
    """A member's name may have changed: move their organisations' stamps.

    Not for a new user (no organisation yet) nor for a save of other fields only, such
    as the ``last_login`` of every login.
    """
    if created or (update_fields is not None and not NAME_FIELDS & set(update_fields)):
        return
    _touch_organisations_of(instance)


@receiver(pre_delete, sender=settings.AUTH_USER_MODEL)
def user_deleted(sender, instance, **kwargs):
    """Agreements the user last changed lose the name (SET_NULL): before the memberships go."""
    _touch_organisations_of(instance)


def _touch_organisations_of(user) -> None:
    Organisation.objects.filter(memberships__user=user).update(updated_at=timezone.now())


@receiver(post_delete, sender=Agreement)
def agreement_deleted(sender, instance, **kwargs):
    """The organisation's list lost a row, which no remaining ``updated_at`` tells."""
    Organisation.objects.filter(pk=instance.organisation_id).update(updated_at=timezone.now())
