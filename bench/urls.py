"""The product's URLs plus two trivial logged-in views, the floors of the load test.

``bench/ping/`` answers "ok": session and user loaded, nothing else, the floor of every
logged-in request. ``bench/page/`` renders the portal's layout (``base.html``: navigation,
language switch, logout form) around an empty content block, the floor of every page.
The load test compares the dashboard with both, served by the same server in the same run.
They exist only here, never in the product.
"""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.template import engines
from django.urls import path

from sla_portal.urls import urlpatterns as product_urlpatterns

EMPTY_PAGE = engines["django"].from_string(
    '{% extends "base.html" %}{% block title %}Bench{% endblock %}{% block content %}{% endblock %}'
)


@login_required
def ping(request):
    """Session and user loaded, nothing else."""
    return HttpResponse("ok", content_type="text/plain")


@login_required
def page(request):
    """The portal's layout with nothing in it."""
    return HttpResponse(EMPTY_PAGE.render({}, request))


urlpatterns = [
    path("bench/ping/", ping, name="bench_ping"),
    path("bench/page/", page, name="bench_page"),
    *product_urlpatterns,
]
