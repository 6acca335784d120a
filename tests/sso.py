"""The test OpenID provider (tests/oidc_provider) as the SSO tests use it.

``OpenIdProvider.start()`` runs it in a process of its own on a free port of 127.0.0.1;
``portal_app()`` is the portal's configuration for it (what ``SLA_OIDC_*`` would give),
and ``log_in_at_provider()`` plays the person at the provider's log-in page for tests
that drive the portal with Django's test client rather than a browser.
"""

import json
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from urllib.parse import urljoin

import requests

ROOT = Path(__file__).resolve().parent.parent
PROVIDER_ID = "firma-sso"
PROVIDER_NAME = "Firma SSO"
CLIENT = {
    "client_id": "sla-portal-test",
    "client_secret": "sla-portal-test-secret",
    "redirect_uris": [
        f"http://testserver/accounts/oidc/{PROVIDER_ID}/login/callback/",
        f"http://localhost/accounts/oidc/{PROVIDER_ID}/login/callback/",
    ],
}
# The provider's people. Anna's address is one the portal knows; Mallory claims Beat's
# address, but the provider did not verify it; Zora has no account in the portal.
USERS = {
    "anna.idp": {
        "password": "idp-pass-anna",
        "email": "anna.keller@muster.example",
        "email_verified": True,
        "given_name": "Anna",
        "family_name": "Keller",
    },
    "mallory.idp": {
        "password": "idp-pass-mallory",
        "email": "beat.sales@muster.example",
        "email_verified": False,
        "given_name": "Mallory",
        "family_name": "Unverified",
    },
    "zora.idp": {
        "password": "idp-pass-zora",
        "email": "zora@elsewhere.example",
        "email_verified": True,
        "given_name": "Zora",
        "family_name": "Fremd",
    },
}


@dataclass
class OpenIdProvider:
    url: str
    process: subprocess.Popen
    directory: tempfile.TemporaryDirectory = field(repr=False)

    @property
    def issuer(self) -> str:
        return f"{self.url}/o"

    @classmethod
    def start(cls) -> "OpenIdProvider":
        directory = tempfile.TemporaryDirectory(prefix="oidc-provider-")
        Path(directory.name, "users.json").write_text(json.dumps(USERS))
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.oidc_provider", directory.name, json.dumps(CLIENT)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        line = process.stdout.readline()
        if not line.startswith("PORT "):
            process.kill()
            raise RuntimeError(f"the test OpenID provider did not start: {line!r}")
        return cls(f"http://127.0.0.1:{int(line.split()[1])}", process, directory)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        self.process.stdout.close()
        self.directory.cleanup()

    def portal_app(self, **app_settings) -> dict:
        """The provider as one entry of SOCIALACCOUNT_PROVIDERS["openid_connect"]["APPS"]."""
        return {
            "provider_id": PROVIDER_ID,
            "name": PROVIDER_NAME,
            "client_id": CLIENT["client_id"],
            "secret": CLIENT["client_secret"],
            "settings": {"server_url": self.issuer, **app_settings},
        }


def log_in_at_provider(authorize_url: str, username: str) -> str:
    """Sign in at the provider as ``username``; return where it sends the browser back."""
    session = requests.Session()
    response = session.get(authorize_url, timeout=10)  # -> the provider's log-in page
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.text).group(1)
    next_url = unescape(re.search(r'name="next" value="([^"]*)"', response.text).group(1))
    response = session.post(
        response.url,
        data={
            "csrfmiddlewaretoken": token,
            "username": username,
            "password": USERS[username]["password"],
            "next": next_url,
        },
        headers={"Referer": response.url},
        allow_redirects=False,
        timeout=10,
    )
    # The log-in sends back to the authorisation, which (the portal is a trusted client
    # here) redirects straight to the portal's callback with the code.
    response = session.get(
        urljoin(response.url, response.headers["Location"]), allow_redirects=False, timeout=10
    )
    assert response.status_code == 302, response.text[:500]
    return response.headers["Location"]
