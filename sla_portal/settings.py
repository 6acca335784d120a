"""Settings of the SLA Portal, read from the environment.

Every value that differs between a laptop and production comes from an environment
variable, parsed by the small typed helpers below. With ``DJANGO_DEBUG`` off the
required secrets must be set, otherwise start-up fails loudly.
"""

import importlib.util
import os
import re
from datetime import timedelta
from pathlib import Path

import dj_database_url
import weblate_fonts
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str | None = None) -> str | None:
    """Return ``NAME``, or the content of the file named by ``NAME_FILE`` (Docker secrets)."""
    if file_name := os.environ.get(f"{name}_FILE"):
        return Path(file_name).read_text(encoding="utf-8").strip()
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean, got {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return default if value in (None, "") else int(value)


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_required(name: str) -> str:
    value = env_str(name)
    if not value:
        raise ImproperlyConfigured(f"{name} (or {name}_FILE) must be set when DJANGO_DEBUG is off")
    return value


def env_oidc_providers() -> list[dict]:
    """The OpenID Connect providers named in ``SLA_OIDC_PROVIDERS``, as allauth's APPS.

    ``SLA_OIDC_PROVIDERS=entra,keycloak`` names them; each then reads
    ``SLA_OIDC_<ID>_ISSUER``, ``_CLIENT_ID``, ``_SECRET`` (or ``_SECRET_FILE``), and
    optionally ``_NAME`` (the button's label) and ``_VERIFIED_DOMAINS`` (domains whose
    addresses the provider vouches for although it sends no ``email_verified`` claim).
    """
    apps = []
    for provider_id in env_list("SLA_OIDC_PROVIDERS"):
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", provider_id):
            raise ImproperlyConfigured(
                f"SLA_OIDC_PROVIDERS: {provider_id!r} must be lower-case letters, digits, dashes"
            )
        prefix = f"SLA_OIDC_{provider_id.upper().replace('-', '_')}"
        app_settings = {"server_url": _env_oidc_required(f"{prefix}_ISSUER")}
        if domains := env_list(f"{prefix}_VERIFIED_DOMAINS"):
            app_settings["verified_email"] = domains
        apps.append(
            {
                "provider_id": provider_id,
                "name": env_str(f"{prefix}_NAME") or provider_id,
                "client_id": _env_oidc_required(f"{prefix}_CLIENT_ID"),
                "secret": _env_oidc_required(f"{prefix}_SECRET"),
                "settings": app_settings,
            }
        )
    return apps


def _env_oidc_required(name: str) -> str:
    value = env_str(name)
    if not value:
        raise ImproperlyConfigured(f"{name} must be set for the provider in SLA_OIDC_PROVIDERS")
    return value


DEBUG = env_bool("DJANGO_DEBUG", default=False)
VAR_DIR = Path(os.environ.get("SLA_VAR_DIR", BASE_DIR / "var"))

if DEBUG:
    SECRET_KEY = env_str("DJANGO_SECRET_KEY") or "insecure-development-key-never-used-in-production"
else:
    SECRET_KEY = env_required("DJANGO_SECRET_KEY")

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "axes",  # django-axes: throttles failed log-ins per account and per address
    "csp",  # django-csp: the Content-Security-Policy header
    "bootstrap",  # django-bootstrap-static: Bootstrap 5 CSS/JS
    "django_tasks",  # Django's tasks API (the backport of Django 6's django.tasks)
    # django-tasks-db: its database backend, the task table and the worker
    "agreements.tasks.apps.TaskTableConfig",
    "agreements",
    "agreements.evidence",  # the seal's long-term evidence (archive timestamps), issue 14
    "agreements.negotiation",  # comments, field history, changes since last read, issue 21
    "agreements.team",  # organisations' teams: invitations, roles, their log (issue 20)
    # django-allauth: log-in, password, single sign-on and second factors. After
    # agreements, whose templates (templates/account, templates/mfa, ...) replace its own.
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.mfa",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # A 405 (require_POST and friends) gets a page of ours instead of an empty body.
    "sla_portal.errors.MethodNotAllowedPageMiddleware",
    "csp.middleware.CSPMiddleware",
    # Inside django-csp's: lets the single sign-on buttons redirect to their provider.
    "agreements.identity.middleware.SsoFormActionMiddleware",
    # Last, as django-axes requires: it turns a refused log-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "sla_portal.urls"
WSGI_APPLICATION = "sla_portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The test database in a file, not in memory: the task worker's tests start a real
    # worker process, which must see what the test wrote (tests/test_worker.py).
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Background work (agreements.tasks): rendering, sealing and storing the signed PDF, its
# timestamp, every workflow mail and the reminders run as tasks of Django's tasks API,
# stored in this database (django-tasks-db) and run by `manage.py task_worker`, which
# `make run` starts beside the web server. Several workers, on several machines, may
# share the database (docs/scaling.md).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
# A task still marked running after this many seconds, whose worker cannot be seen alive,
# is given to another worker. Far above the longest task: a render, a timestamp (10 s
# timeout) and a mail (EMAIL_TIMEOUT) take seconds.
SLA_TASK_LEASE_SECONDS = env_int("SLA_TASK_LEASE_SECONDS", 600)
# A failed task is tried again after this many seconds, then 4 times longer each time,
# six attempts in all (agreements.tasks.engine.RetryPolicy).
SLA_TASK_RETRY_DELAY_SECONDS = env_int("SLA_TASK_RETRY_DELAY_SECONDS", 30)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first: it refuses a log-in while the account or the address is locked out,
# before the password is even checked. allauth's backend finds a user by user name or by
# e-mail address.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "account_login"
# Mail is sent after the request (transaction.on_commit) and needs absolute links. Default:
# the first allowed host over HTTPS in production, the development server in debug.
SLA_SITE_URL = (
    env_str("SLA_SITE_URL")
    or (f"https://{ALLOWED_HOSTS[0]}" if ALLOWED_HOSTS and not DEBUG else "http://127.0.0.1:8000")
).rstrip("/")
# manage.py send_reminders (agreements.reminders): remind a representative once their
# signature has been awaited for more than this many days, and the authors and management
# once the renewal date of a signed agreement without successor is this many days away.
# Invitation mails (new and resent) per organisation and hour (agreements.team): enough
# to invite a department, too few to use the portal to send mail at scale.
SLA_TEAM_INVITATIONS_PER_HOUR = env_int("SLA_TEAM_INVITATIONS_PER_HOUR", 20)
SLA_REMINDER_SIGNATURE_DAYS = env_int("SLA_REMINDER_SIGNATURE_DAYS", 3)
SLA_REMINDER_RENEWAL_DAYS = env_int("SLA_REMINDER_RENEWAL_DAYS", 30)

# Swiss German first, English second. Our own formats (sla_portal/formats) give de-CH
# the typographic apostrophe as thousands separator: 34’000.
LANGUAGE_CODE = "de-ch"
LANGUAGES = [("de-ch", _("Deutsch (Schweiz)")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["sla_portal.formats"]
TIME_ZONE = "Europe/Zurich"
USE_I18N = True
USE_TZ = True

FONTAWESOME_DIR = (
    Path(importlib.util.find_spec("fontawesome").origin).parent / "static" / "fontawesome"
)

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # The PDF's font, Source Sans 3 from the weblate-fonts package, served as our own static
    # files under fonts/source-sans-3/: only this family, not the package's CJK fonts.
    (
        "fonts/source-sans-3",
        Path(weblate_fonts.__file__).parent / "static" / "weblate_fonts" / "source-sans" / "ttf",
    ),
    # Font Awesome from django-bootstrap-static: its stylesheet and web fonts only, not the
    # thousands of single SVG icons the package also ships (collectstatic would compress
    # each of them for every deployment).
    ("fontawesome/css", FONTAWESOME_DIR / "css"),
    ("fontawesome/webfonts", FONTAWESOME_DIR / "webfonts"),
]
# What the portal keeps in the cache (the dashboard's rendered lists) is keyed by what
# it shows, so nothing ever has to be removed from another process's cache: each worker
# keeps its own in memory. Any shared cache (Redis, Memcached) works as well (see
# docs/scaling.md). Some 20 KB per list: at most 10 MB per worker.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "OPTIONS": {"MAX_ENTRIES": 500},
    }
}
MEDIA_ROOT = Path(os.environ.get("DJANGO_MEDIA_ROOT", VAR_DIR / "media"))
# The framework document (agreements.uploads): at most 10 MB, checked by its content.
# Django's defaults stay: uploads above 2.5 MB go to a temporary file, not to memory.
# The reverse proxy should refuse larger bodies (e.g. nginx client_max_body_size 11m).
SLA_MAX_UPLOAD_BYTES = 10 * 1024 * 1024
# Uploaded PDFs (the framework document, the verify page) are parsed in a child process
# that may grow by this much beyond the worker and use this much CPU (agreements.sandbox);
# beyond, the file is refused as too complex.
SLA_PDF_PARSE_MEMORY_MB = env_int("SLA_PDF_PARSE_MEMORY_MB", 256)
SLA_PDF_PARSE_CPU_SECONDS = env_int("SLA_PDF_PARSE_CPU_SECONDS", 10)
# Private documents: readable by the application's user and group only.
FILE_UPLOAD_PERMISSIONS = 0o640
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o750
STORAGES = {
    # Uploaded documents are private: no MEDIA_URL is served, views stream them after a check.
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

DEFAULT_FROM_EMAIL = env_str("DJANGO_DEFAULT_FROM_EMAIL", "SLA-Portal <sla-portal@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
if DEBUG and not os.environ.get("EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
else:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=True)
# Seconds a mail server may take to answer: the worker waits no longer on a hanging one.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)

# A login lasts one working day at most (8 hours after the session last changed, checked
# by the server, not only by the cookie) and ends when the browser closes: the portal is
# used on shared office machines. No sliding idle timeout: it would write the session on
# every request for little gain over the 8-hour limit.
SESSION_COOKIE_AGE = env_int("DJANGO_SESSION_COOKIE_AGE", 8 * 60 * 60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# A refused form (a page left open past the session, blocked cookies) says so in the
# visitor's language, in the portal's layout (sla_portal.errors).
CSRF_FAILURE_VIEW = "sla_portal.errors.csrf_failure"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Content-Security-Policy (django-csp): only our own files run, no inline script or style,
# no plugins, and no page of the portal inside a frame. Bootstrap's icons in its CSS are
# data: URIs, hence img-src data:. The templates have no style attributes (tested), so
# style-src needs no 'unsafe-inline' either.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}

# Failed log-ins (django-axes): after SLA_LOGIN_FAILURE_LIMIT failures for one user name,
# or from one address, further attempts are refused for SLA_LOGIN_COOLOFF_MINUTES, even
# with the right password; a successful log-in clears the count. The two are counted
# separately, so guessing many passwords for one account and one password for many
# accounts are both stopped.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_FAILURE_LIMIT = env_int("SLA_LOGIN_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("SLA_LOGIN_COOLOFF_MINUTES", 15))
AXES_RESET_ON_SUCCESS = True
# ...but only the failures of the user name that succeeded, not those of other names
# tried from the same address (sla_portal.security.AxesHandler).
AXES_HANDLER = "sla_portal.security.AxesHandler"
AXES_LOCKOUT_CALLABLE = "sla_portal.security.lockout_response"
# A failed attempt during the lockout does not prolong it: otherwise anyone could keep an
# account locked for good by trying it every few minutes.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Behind the reverse proxy every request comes from 127.0.0.1: the client's address is the
# one the proxy appended to X-Forwarded-For (agreements.identity.client.client_ip, which
# signatures and audit events read as well).
SLA_TRUSTED_PROXIES = env_int("DJANGO_TRUSTED_PROXIES", 0 if DEBUG else 1)
AXES_CLIENT_IP_CALLABLE = "agreements.identity.client.client_ip"
# The name a failure is counted under: what was typed in the log-in form (user name or
# e-mail address), in lower case, as allauth finds the account regardless of case.
AXES_USERNAME_CALLABLE = "sla_portal.security.attempted_username"

# Identity (django-allauth, agreements/identity/, docs/security.md). Accounts are made by
# staff (later by invitation), never by a visitor: sign-up is closed. People log in with
# user name or e-mail address and password, with a passkey, or through their company's
# OpenID provider; TOTP, passkeys and recovery codes are their second factor.
ACCOUNT_ADAPTER = "agreements.identity.adapters.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "agreements.identity.adapters.SocialAccountAdapter"
MFA_ADAPTER = "agreements.identity.adapters.MFAAdapter"
ACCOUNT_FORMS = {
    "login": "agreements.identity.forms.LoginForm",
    "change_password": "agreements.identity.forms.ChangePasswordForm",
    "reset_password": "agreements.identity.forms.ResetPasswordForm",
    "reset_password_from_key": "agreements.identity.forms.ResetPasswordKeyForm",
}
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
# No "remember me": a log-in ends with the browser (SESSION_EXPIRE_AT_BROWSER_CLOSE).
ACCOUNT_SESSION_REMEMBER = False
# An address someone adds counts only once they followed the link mailed to it; the
# address staff entered stays until then (single sign-on links accounts by it).
ACCOUNT_EMAIL_VERIFICATION = "optional"
ACCOUNT_CHANGE_EMAIL = True
# Mail to the account's owner whenever its password, address or factors change.
ACCOUNT_EMAIL_NOTIFICATIONS = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "SLA-Portal: "
# Password reset: a link valid for SLA_PASSWORD_RESET_MINUTES, no log-in on its own (the
# new password then goes through the log-in, and its second factor, like any other), and
# no mail to addresses without an account.
PASSWORD_RESET_TIMEOUT = 60 * env_int("SLA_PASSWORD_RESET_MINUTES", 60)
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False
ACCOUNT_PREVENT_ENUMERATION = True
# allauth's own limits, on top of django-axes. They are counted in the cache: per worker
# with the default in-memory cache, across workers with a shared one (docs/scaling.md).
# Reset mails: 3 an hour per address typed, 10 an hour from one client address, and 3 an
# hour to one account whichever of its addresses was typed (agreements.identity.forms).
ACCOUNT_RATE_LIMITS = {
    "reset_password": "5/m/ip,10/h/ip,3/h/key",
    "reset_password_account": "3/h/key",
}
SOCIALACCOUNT_PROVIDERS = {
    "openid_connect": {
        "APPS": env_oidc_providers(),
        "OAUTH_PKCE_ENABLED": True,
    }
}
# Sign-on links to an existing account only by an address the provider verified
# (agreements.identity.adapters); it never creates one, never wipes its password.
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_AUTO_SIGNUP = False
SOCIALACCOUNT_EMAIL_REQUIRED = True
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_PASSKEY_LOGIN_ENABLED = True
# allauth refuses factors to an address nobody verified, against a stranger who signed up
# with someone else's address; here staff enter the addresses and nobody signs up.
MFA_ALLOW_UNVERIFIED_EMAIL = True
MFA_TOTP_ISSUER = "SLA-Portal"

if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# The portal's seal on signed PDFs (agreements.seal). Production names a PKCS#12 file
# (SLA_SEAL_PKCS12_FILE); without one the PEM key and certificate below are used, which
# `manage.py create_seal_certificate` creates self-signed for development. The passphrase
# is a secret (SLA_SEAL_PASSPHRASE or SLA_SEAL_PASSPHRASE_FILE). With a timestamp server
# (RFC 3161) configured the seal is PAdES B-T, otherwise B-B; with the root certificates
# of the seal's and the timestamp server's CAs as well (a PEM file), it embeds their
# validation data: PAdES B-LT. docs/seal.md has the details.
SLA_SEAL_PKCS12_FILE = os.environ.get("SLA_SEAL_PKCS12_FILE") or None
SLA_SEAL_KEY_FILE = Path(os.environ.get("SLA_SEAL_KEY_FILE") or VAR_DIR / "seal" / "seal-key.pem")
SLA_SEAL_CERT_FILE = Path(
    os.environ.get("SLA_SEAL_CERT_FILE") or VAR_DIR / "seal" / "seal-cert.pem"
)
SLA_SEAL_PASSPHRASE = env_str("SLA_SEAL_PASSPHRASE") or None
SLA_SEAL_TIMESTAMP_URL = os.environ.get("SLA_SEAL_TIMESTAMP_URL") or None
SLA_SEAL_TRUST_ROOTS_FILE = os.environ.get("SLA_SEAL_TRUST_ROOTS_FILE") or None

# Logs are JSON lines on standard error, and carry no request bodies (passwords, document
# text): sla_portal/logging.py. Django's error reports hide every submitted value too.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_summary": {"()": "sla_portal.logging.RequestSummaryFilter"},
        "retried_task": {"()": "sla_portal.logging.RetriedTaskFilter"},
    },
    "formatters": {"json": {"()": "sla_portal.logging.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_summary"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    # WeasyPrint logs every rendering step at INFO: noise, not news.
    # django-axes announces itself at every start of manage.py: noise as well.
    # pyHanko's difference analysis warns, with a traceback, of every revision it cannot
    # explain: that is the verify page's finding for a changed upload, not a server fault.
    # The task engine logs each task's start and end at INFO: kept, they are the worker's
    # log. Its error for an attempt that will be retried is dropped (RetriedTaskFilter).
    "loggers": {
        "django_tasks": {"filters": ["retried_task"]},
        "weasyprint.progress": {"level": "WARNING"},
        "axes.apps": {"level": "WARNING"},
        "pyhanko.sign.diff_analysis": {"level": "ERROR"},
    },
}

DEFAULT_EXCEPTION_REPORTER_FILTER = "sla_portal.logging.SafeExceptionReporterFilter"

# The demo loader creates accounts with the password "demo": never with debug off. Read
# here, before the test runner switches DEBUG off for the test run.
DEMO_DATA_ALLOWED = DEBUG
