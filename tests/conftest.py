import shutil

import pytest
from django.db.backends.signals import connection_created
from django.utils import translation

from agreements.demo import load_demo, signed_demo_agreement
from agreements.enums import Role
from agreements.seal import seal_certificate_create
from tests.factories import make_member, make_organisation
from tests.timestamp_authority import LocalTimestampAuthority


def allow_truncate(sender, connection, **kwargs):
    """Let Django's flush between transactional tests empty the kept tables (PostgreSQL).

    Migration 0011's triggers refuse TRUNCATE of agreements, signatures and the audit
    trail unless the session sets ``sla.allow_truncate``; the test that proves the
    refusal switches it off for its transaction.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET sla.allow_truncate = 'on'")


connection_created.connect(allow_truncate)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """PBKDF2's deliberate slowness is no help in tests that create many users."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def default_language_afterwards():
    """LocaleMiddleware leaves a request's language active in the thread: a test that
    asked for English must not leave the next test's messages in English."""
    yield
    translation.deactivate()


IMMEDIATE_TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def tasks_run_at_once(settings):
    """Tasks run inside ``enqueue`` (django-tasks' immediate backend), still only on commit.

    A test of what a task does (the PDF's bytes, a mail's text) needs no worker process,
    and the test's transaction never commits: ``django_capture_on_commit_callbacks`` runs
    what the commit would have enqueued, and the task with it. The worker itself, the
    task table, retries and recovery are tested against the database backend and a real
    worker process (tests/test_tasks.py, tests/test_worker.py).
    """
    settings.TASKS = IMMEDIATE_TASKS


@pytest.fixture
def demo_agreement(db):
    """The complete demo SLA of the Muster AG, with its users."""
    return load_demo()


@pytest.fixture
def team(db):
    """An organisation with one member of each role: lena (marketing), tom (sales), chef."""
    organisation = make_organisation("Beispiel AG")
    return {
        "organisation": organisation,
        "marketing": make_member(organisation, Role.MARKETING, "lena", first_name="Lena"),
        "sales": make_member(organisation, Role.SALES, "tom", first_name="Tom"),
        "management": make_member(organisation, Role.MANAGEMENT, "chef"),
    }


@pytest.fixture(scope="session")
def seal_files(tmp_path_factory):
    """The tests' self-signed seal key and certificate, made once per run.

    It exists for every test, so whether a completed signing stores its PDF never
    depends on which test happened to run first.
    """
    directory = tmp_path_factory.mktemp("seal")
    key_file, cert_file = directory / "seal-key.pem", directory / "seal-cert.pem"
    seal_certificate_create(key_file=key_file, cert_file=cert_file)
    return key_file, cert_file


@pytest.fixture(scope="session")
def timestamp_authority(tmp_path_factory):
    """A real RFC 3161 timestamp server (``openssl ts``) with its test CA, for this run."""
    if not shutil.which("openssl"):
        pytest.skip("openssl missing (`make browsers` installs it)")
    authority = LocalTimestampAuthority(tmp_path_factory.mktemp("tsa")).start()
    yield authority
    authority.stop()


@pytest.fixture
def ca_seal_settings(settings, tmp_path, timestamp_authority):
    """The seal as production runs it: a CA's certificate, a timestamp server, their roots."""
    timestamp_authority.configure_seal(
        settings, tmp_path / "seal.p12", "SLA-Portal Siegel (Test-CA)"
    )
    return settings


@pytest.fixture(autouse=True)
def private_files(settings, tmp_path_factory, seal_files):
    """Stored files and the seal of a test stay out of the developer's var/ directory.

    The seal settings also ignore the developer's environment (a PKCS#12 file, a
    passphrase, a timestamp server): the tests seal with a development certificate.
    """
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")
    settings.SLA_SEAL_PKCS12_FILE = None
    settings.SLA_SEAL_KEY_FILE, settings.SLA_SEAL_CERT_FILE = seal_files
    settings.SLA_SEAL_PASSPHRASE = None
    settings.SLA_SEAL_TIMESTAMP_URL = None
    settings.SLA_SEAL_TRUST_ROOTS_FILE = None


@pytest.fixture
def signed_demo(db, django_capture_on_commit_callbacks):
    """The demo data with the 2026 SLA signed, its sealed PDF stored by the completion hook.

    The hook runs on commit; the test's transaction never commits, so the callbacks
    registered by load_demo's signing are run here as a commit would run them.
    """
    with django_capture_on_commit_callbacks(execute=True):
        load_demo()
    agreement = signed_demo_agreement()
    assert agreement.signed_pdf, "the completion hook stored no PDF (its error is logged)"
    return agreement


@pytest.fixture(autouse=True)
def login_throttle_off(settings):
    """django-axes needs the request in authenticate(); the test client's login() has none.

    So tests log in with client.login() while axes is off, as axes' documentation advises;
    tests/test_security.py switches it on to prove the lockout, through the log-in form.
    """
    settings.AXES_ENABLED = False


@pytest.fixture(autouse=True)
def fresh_cache():
    """allauth counts its rate limits (and used TOTP codes) in the cache, which lives as
    long as the test process: each test starts with none spent."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(scope="session")
def openid_provider():
    """A real OpenID provider on 127.0.0.1 (tests/oidc_provider), for the whole run."""
    from .sso import OpenIdProvider

    provider = OpenIdProvider.start()
    yield provider
    provider.stop()


@pytest.fixture
def sso(settings, openid_provider):
    """The portal configured with the test provider, as SLA_OIDC_* would configure it."""
    settings.SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": {"APPS": [openid_provider.portal_app()], "OAUTH_PKCE_ENABLED": True}
    }
    return openid_provider
