"""The portal's own error pages: what happened and the way on, in the visitor's language.

Django's defaults are a bare "403 Forbidden" in English, or nothing at all for a 405.
Here every error is a page of the portal's layout (``templates/errors/page.html``) that
says in German or English what happened, that nothing half was saved, and links where
to go next: the agreement the address names, when the visitor may read it, and the
overview. The language is the visitor's (cookie or browser), never read from the
database.

Pages for a broken request (400) or server (500) are rendered without the request's
context: no session, no user, no database, which may be the very thing that failed.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.template import loader
from django.urls import Resolver404, resolve, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from agreements.permissions import Action, get_agreement_for

TEMPLATE = "errors/page.html"


def bad_request(request, exception=None):
    """400: a request the portal cannot read (a forged host, a broken form)."""
    return _minimal_page(
        400,
        _("Die Anfrage war ungültig"),
        [
            _(
                "Das SLA-Portal konnte die Anfrage nicht lesen. Es wurde nichts gespeichert. "
                "Bitte gehen Sie zurück und versuchen Sie es noch einmal."
            )
        ],
    )


def permission_denied(request, exception=None):
    """403: a page the visitor may read, or an action their role does not allow."""
    return _page(
        request,
        403,
        _("Dafür fehlt Ihnen die Berechtigung"),
        [
            _(
                "Diese Seite oder Aktion ist Ihrer Rolle nicht freigegeben: Marketing und "
                "Sales schreiben die SLA, ihre Vertretungen unterzeichnen, das Management "
                "liest. Es wurde nichts geändert."
            ),
            _("Fehlt Ihnen eine Rolle, wenden Sie sich bitte an die Administration."),
        ],
    )


def page_not_found(request, exception=None):
    """404: an address that does not exist, or an agreement of another organisation."""
    return _page(
        request,
        404,
        _("Diese Seite gibt es nicht"),
        [
            _(
                "Die Adresse ist falsch oder veraltet, oder die Seite gehört zu einer "
                "Organisation, der Sie nicht angehören."
            )
        ],
        agreement_link=False,
    )


def method_not_allowed(request, response):
    """405: an address called the wrong way (a form sent twice, a link to a button)."""
    page = _page(
        request,
        405,
        _("Diese Adresse lässt sich so nicht aufrufen"),
        [
            _(
                "Die Seite nimmt diese Art von Anfrage nicht an, etwa weil ein Formular "
                "erneut gesendet oder ein Link zu einer Schaltfläche geöffnet wurde. Es wurde "
                "nichts gespeichert."
            )
        ],
    )
    page["Allow"] = response["Allow"]
    return page


def server_error(request):
    """500: something failed on the server; the whole request was rolled back."""
    return _minimal_page(
        500,
        _("Das hat leider nicht geklappt"),
        [
            _(
                "Das SLA-Portal konnte Ihre Anfrage wegen einer vorübergehenden Störung nicht "
                "ausführen. Es wurde nichts halb gespeichert: Was Sie eben abgeschickt haben, "
                "ist entweder ganz oder gar nicht übernommen."
            ),
            _(
                "Bitte versuchen Sie es in einigen Minuten noch einmal. Besteht die Störung "
                "weiter, melden Sie sich bitte bei der Administration."
            ),
        ],
    )


def csrf_failure(request, reason=""):
    """403 of the CSRF check: mostly a page left open past the session, or blocked cookies."""
    back = request.META.get("HTTP_REFERER", "")
    links = []
    if back and url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        links.append((back, _("Zurück zur Seite")))
    return _page(
        request,
        403,
        _("Die Seite war zu lange offen"),
        [
            _(
                "Aus Sicherheitsgründen nimmt das SLA-Portal ein Formular nur an, solange die "
                "Seite frisch ist und Ihr Browser Cookies dieses Portals erlaubt. Es wurde "
                "nichts gespeichert."
            ),
            _(
                "Öffnen Sie die Seite neu (gegebenenfalls nach erneuter Anmeldung) und senden "
                "Sie das Formular noch einmal; kopieren Sie längere Eingaben vorher."
            ),
        ],
        links=links,
    )


class MethodNotAllowedPageMiddleware:
    """Give a 405 (``require_POST`` and friends answer with an empty body) our page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 405 and not response.content:
            return method_not_allowed(request, response)
        return response


def _page(request, status, title, paragraphs, *, links=None, agreement_link=True):
    links = list(links or [])
    if agreement_link and (agreement := _agreement_named(request)):
        links.append((reverse("agreement_detail", args=[agreement.pk]), _("Zum SLA")))
    links.append((reverse("dashboard"), _("Zur Übersicht")))
    context = {"status": status, "title": title, "paragraphs": paragraphs, "links": links}
    return render(request, TEMPLATE, context, status=status)


def _minimal_page(status, title, paragraphs):
    context = {
        "status": status,
        "title": title,
        "paragraphs": paragraphs,
        "links": [(reverse("dashboard"), _("Zur Übersicht"))],
        "minimal": True,
    }
    return HttpResponse(loader.get_template(TEMPLATE).render(context), status=status)


def _agreement_named(request):
    """The agreement the address is about, if the visitor may read it; else None."""
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return None
    pk = match.kwargs.get("pk")
    if not isinstance(pk, int) or (match.namespace or "").startswith("admin"):
        return None
    try:
        return get_agreement_for(
            request.user, pk, Action.VIEW, only=("status", "organisation__name")
        )
    except (Http404, PermissionDenied):
        return None
