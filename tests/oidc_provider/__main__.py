"""Start the test OpenID provider: ``python -m tests.oidc_provider STATE_DIR CLIENT_JSON``.

STATE_DIR holds ``users.json``; the signing key and the database are made there.
CLIENT_JSON names the portal's client: ``{"client_id", "client_secret", "redirect_uris"}``.
Prints ``PORT <n>`` once it listens on 127.0.0.1, then serves until terminated.
"""

import json
import os
import sys
from pathlib import Path


def main() -> None:
    state, client = Path(sys.argv[1]), json.loads(sys.argv[2])
    os.environ["OIDC_TEST_STATE"] = str(state)
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.oidc_provider.settings"
    _write_signing_key(state / "signing-key.pem")

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from django.core.wsgi import get_wsgi_application
    from oauth2_provider.models import Application

    call_command("migrate", verbosity=0)
    for username, person in settings.USERS.items():
        get_user_model().objects.create_user(
            username=username, email=person["email"], password=person["password"]
        )
    Application.objects.create(
        name="SLA-Portal",
        client_id=client["client_id"],
        client_secret=client["client_secret"],
        hash_client_secret=False,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=" ".join(client["redirect_uris"]),
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=True,
    )

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, format, *args):
            pass

    server = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler, allow_reuse_address=False)
    server.set_app(get_wsgi_application())
    print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever()


def _write_signing_key(path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


if __name__ == "__main__":
    main()
