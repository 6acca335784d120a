"""A real OpenID provider for the single sign-on tests: django-oauth-toolkit in its own process.

``python -m tests.oidc_provider USERS_JSON`` migrates a fresh SQLite database, creates
the users and the portal as a client, and serves on a free port of 127.0.0.1, which it
prints first (``PORT 41234``). The portal's tests talk to it over HTTP exactly as they
would to Keycloak or Entra ID: discovery, log-in page, authorisation code with PKCE,
token endpoint, signed ID token, JWKS, userinfo. See ``tests/sso.py`` for the fixture.
"""
