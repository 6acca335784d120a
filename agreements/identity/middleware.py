"""Let the single sign-on buttons leave the portal despite ``form-action 'self'``.

The button posts to the portal, which redirects to the provider; browsers apply the
Content-Security-Policy's ``form-action`` to that redirect too. So the pages with such
buttons allow, in addition to 'self', the origins of the configured providers, and
only those pages: everywhere else a form still cannot post anywhere but here.
"""

from urllib.parse import urlsplit

from allauth.socialaccount.adapter import get_adapter

# The pages that show a provider's button (the log-in page also when it refuses a
# password for an organisation that requires SSO) or continue to the provider.
SSO_PAGES = {"account_login", "openid_connect_login", "socialaccount_connections"}


class SsoFormActionMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        match = request.resolver_match
        if match is not None and match.url_name in SSO_PAGES:
            origins = provider_origins(request)
            if origins:
                response._csp_update = {"form-action": origins}
        return response


def provider_origins(request) -> list[str]:
    """The origins (scheme://host:port) of the configured OpenID providers."""
    origins = set()
    for app in get_adapter(request).list_apps(request, provider="openid_connect"):
        url = urlsplit(app.settings.get("server_url", ""))
        if url.scheme in ("https", "http") and url.netloc:
            origins.add(f"{url.scheme}://{url.netloc}")
    return sorted(origins)
