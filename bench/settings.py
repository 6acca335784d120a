"""Settings for the benchmark: the product's own settings, plus three bench-only changes.

1. ``bench.urls``: the product's URLs and one trivial logged-in view, the floor of the
   load test. It exists only here, never in the product.
2. The schema is built from the models (as ``pytest --nomigrations`` does), so the bench
   measures the code in the checkout even while its migrations lag behind.
3. Mail goes to memory: the bench must not knock on an SMTP server; the mails are still
   built, as in production.

Everything else (DEBUG off, WhiteNoise, the session and database settings) comes from
``sla_portal.settings`` and the environment that ``bench/run.py`` sets up.
"""

from sla_portal.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"


class _NoMigrations(dict):
    """Every app "has no migrations": ``migrate --run-syncdb`` creates all tables in order."""

    def __contains__(self, app_label):
        return True

    def __getitem__(self, app_label):
        return None


MIGRATION_MODULES = _NoMigrations()
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
}
