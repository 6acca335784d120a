"""Production settings: secrets required, and `check --deploy` clean."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def manage(*args, timeout=120, **env):
    base = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "k" * 20 + "9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f0e9d8c7b6a5",
    "DJANGO_ALLOWED_HOSTS": "sla.example.ch",
}


def test_check_deploy_is_clean_in_production():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    "site_url",
    ["http://127.0.0.1:8000", "https://localhost", "http://[::1]:8000", "https://sla.localhost/"],
)
def test_check_deploy_refuses_a_site_url_on_this_machine(site_url):
    """The verify link printed in every signed PDF must reach the portal, not the reader's PC."""
    result = manage("check", "--deploy", **PRODUCTION, SLA_SITE_URL=site_url)
    assert result.returncode != 0
    assert "agreements.E001" in result.stderr and site_url.rstrip("/") in result.stderr


def test_check_deploy_refuses_localhost_as_the_first_allowed_host():
    result = manage("check", "--deploy", **{**PRODUCTION, "DJANGO_ALLOWED_HOSTS": "localhost"})
    assert result.returncode != 0
    assert "agreements.E001" in result.stderr


def test_secret_key_is_required_without_debug():
    env = {k: v for k, v in PRODUCTION.items() if k != "DJANGO_SECRET_KEY"}
    result = manage("check", **env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_secret_key_can_come_from_a_file(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text(PRODUCTION["DJANGO_SECRET_KEY"])
    env = {k: v for k, v in PRODUCTION.items() if k != "DJANGO_SECRET_KEY"}
    result = manage("check", "--deploy", "--fail-level", "WARNING",
                    DJANGO_SECRET_KEY_FILE=str(secret), **env)  # fmt: skip
    assert result.returncode == 0, result.stderr


# Render the log-in page over HTTPS in a production process: the headers it gets and the
# static file names it references, then fetch one of those files through WhiteNoise.
RENDER_LOGIN_PAGE = """
import json, re, django
django.setup()
from django.test import Client
client = Client(HTTP_HOST="sla.example.ch")
page = client.get("/accounts/login/", secure=True)
css = re.search(r'href="(/static/bootstrap/css/bootstrap\\.min\\.[0-9a-f]{12}\\.css)"', page.text)
served = client.get(css.group(1), secure=True) if css else None
print(json.dumps({
    "status": page.status_code,
    "headers": dict(page.headers),
    "css": css.group(1) if css else None,
    "css_status": served.status_code if served else None,
    "css_cache": served.headers.get("Cache-Control") if served else None,
}))
"""


@pytest.fixture(scope="module")
def production_login_page(tmp_path_factory):
    """collectstatic into a fresh STATIC_ROOT, then the log-in page as production serves it."""
    root = tmp_path_factory.mktemp("production")
    (root / "var").mkdir()
    env = {
        **PRODUCTION,
        "DJANGO_STATIC_ROOT": str(root / "static"),
        "SLA_VAR_DIR": str(root / "var"),
        # The log-in page lists the single sign-on providers staff stored: it reads the
        # database, a fresh SQLite file here whatever the test run uses.
        "DATABASE_URL": f"sqlite:///{root / 'var' / 'db.sqlite3'}",
    }
    migrated = manage("migrate", "--noinput", timeout=600, **env)
    assert migrated.returncode == 0, migrated.stderr
    # Compressing every file is slow on a loaded CI machine: allow it minutes.
    collected = manage("collectstatic", "--noinput", timeout=600, **env)
    assert collected.returncode == 0, collected.stderr
    base = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    rendered = subprocess.run(
        [sys.executable, "-c", RENDER_LOGIN_PAGE],
        cwd=ROOT,
        env={**base, **env, "DJANGO_SETTINGS_MODULE": "sla_portal.settings"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert rendered.returncode == 0, rendered.stderr
    return root / "static", json.loads(rendered.stdout.strip().splitlines()[-1])


def test_static_files_are_collected_with_hashed_names_and_the_pdf_font(production_login_page):
    static_root, _ = production_login_page

    assert list(static_root.glob("bootstrap/css/bootstrap.min.*.css"))
    assert list(static_root.glob("fonts/source-sans-3/*.ttf"))
    assert (static_root / "staticfiles.json").exists()


def test_production_pages_reference_hashed_static_files_served_by_whitenoise(
    production_login_page,
):
    _, page = production_login_page

    assert page["status"] == 200
    assert page["css"], "the log-in page references no hashed bootstrap.min.css"
    assert page["css_status"] == 200
    assert "immutable" in page["css_cache"]  # hashed names may be cached for good


def test_production_sends_hsts_and_the_other_security_headers(production_login_page):
    _, page = production_login_page
    headers = page["headers"]

    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "script-src 'self';" in headers["Content-Security-Policy"] + ";"
    assert "Secure" in headers.get("Set-Cookie", "Secure")  # csrftoken, if set, is secure-only


def test_gunicorn_replaces_its_workers_now_and_then_not_all_at_once():
    # Whatever a worker's memory grew by is given back when it is replaced (issue 12).
    import runpy
    from pathlib import Path

    config = runpy.run_path(str(Path(__file__).resolve().parent.parent / "gunicorn.conf.py"))

    assert 100 <= config["max_requests"] <= 10_000
    assert 0 < config["max_requests_jitter"] < config["max_requests"]
