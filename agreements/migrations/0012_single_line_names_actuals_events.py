"""Two small ones of issue 12: an organisation's name is one line, actuals are audited.

- The name goes into mail subjects (agreements.validators). Existing names with line
  breaks or other control characters get spaces instead, so their mails go out again.
- ``actuals_saved``: a change of the reported figures is an event of the trail.
"""

import re

from django.conf import settings
from django.db import migrations, models

import agreements.validators

CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def one_line_names(apps, schema_editor):
    Organisation = apps.get_model("agreements", "Organisation")
    for organisation in Organisation.objects.all():
        name = " ".join(CONTROL.sub(" ", organisation.name).split())
        if name != organisation.name:
            organisation.name = name
            organisation.save(update_fields=["name"])


class Migration(migrations.Migration):
    dependencies = [
        ("agreements", "0011_audit_head"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="auditevent",
            name="audit_event_action_valid",
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="action",
            field=models.CharField(
                choices=[
                    ("created", "Erstellt"),
                    ("step_saved", "Schritt gespeichert"),
                    ("submitted", "Zur Unterzeichnung eingereicht"),
                    ("signed", "Unterzeichnet"),
                    ("declined", "Abgelehnt"),
                    ("reopened", "Zurück in Bearbeitung"),
                    ("completed", "Vollständig unterzeichnet"),
                    ("pdf_stored", "PDF abgelegt"),
                    ("pdf_downloaded", "PDF heruntergeladen"),
                    ("archive_timestamp_added", "Archivzeitstempel hinzugefügt"),
                    ("renewed", "Erneuert"),
                    ("actuals_saved", "Ist-Werte gespeichert"),
                    ("superseded", "Abgelöst"),
                ],
                max_length=30,
                verbose_name="Aktion",
            ),
        ),
        migrations.AlterField(
            model_name="organisation",
            name="name",
            field=models.CharField(
                max_length=200,
                unique=True,
                validators=[agreements.validators.single_line],
                verbose_name="Name",
            ),
        ),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "action__in",
                        [
                            "created",
                            "step_saved",
                            "submitted",
                            "signed",
                            "declined",
                            "reopened",
                            "completed",
                            "pdf_stored",
                            "pdf_downloaded",
                            "archive_timestamp_added",
                            "renewed",
                            "actuals_saved",
                            "superseded",
                        ],
                    )
                ),
                name="audit_event_action_valid",
            ),
        ),
        migrations.RunPython(one_line_names, migrations.RunPython.noop, elidable=True),
    ]
