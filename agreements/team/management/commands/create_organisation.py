"""``manage.py create_organisation "Name" --admin email``: a new organisation, and the
invitation of its first administrator by mail (``agreements.team.domain``).

The mail goes out as a task: a running task worker sends it (``manage.py task_worker``).
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from agreements.enums import Role
from agreements.team.domain import TeamRefused, organisation_create


class Command(BaseCommand):
    help = "Creates an organisation and mails its first administrator an invitation."

    def add_arguments(self, parser):
        parser.add_argument("name", help='the organisation\'s name, e.g. "Muster AG"')
        parser.add_argument("--admin", required=True, help="the administrator's e-mail address")
        parser.add_argument(
            "--role",
            choices=Role.values,
            default=Role.MANAGEMENT,
            help="the administrator's role beside the administration (default: management)",
        )
        parser.add_argument("--job-title", default="", help="as printed in the signature block")

    def handle(self, *args, name, admin, role, job_title, **options):
        try:
            validate_email(admin)
            invitation = organisation_create(
                name=name, admin_email=admin, admin_role=role, admin_job_title=job_title
            )
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error
        except TeamRefused as refusal:
            raise CommandError(str(refusal)) from refusal
        self.stdout.write(
            f"Organisation {invitation.organisation.name!r} created (id "
            f"{invitation.organisation.pk}); the invitation to {invitation.email} is "
            f"mailed by the task worker and valid until {invitation.expires_at:%d.%m.%Y %H:%M}."
        )
