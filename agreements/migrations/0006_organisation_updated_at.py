import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("agreements", "0005_goals_reminders"),
    ]

    operations = [
        migrations.AddField(
            model_name="organisation",
            name="updated_at",
            field=models.DateTimeField(
                auto_now=True, default=django.utils.timezone.now, verbose_name="Geändert am"
            ),
            preserve_default=False,
        ),
    ]
