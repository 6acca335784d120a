"""Identity: how people log in, confirm who they are at signing, and what an organisation asks.

Built on django-allauth (account, socialaccount with OpenID Connect, mfa). This package
holds the portal's own rules on top: ``rules`` (what an organisation requires of its
members), ``adapters`` (allauth's hooks: closed sign-up, SSO linking by verified address,
SSO-only log-in), ``forms`` (allauth's forms with the throttle), ``throttle`` (every
password or code check counts with django-axes) and ``signing`` (the factors that confirm
a signature). docs/security.md describes the factors and what each protects against.
"""
