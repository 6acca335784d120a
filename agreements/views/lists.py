"""The lists: the dashboard of a user's agreements and the signed agreements for management."""

import hashlib
from typing import NamedTuple

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.views.decorators.http import require_safe

from ..enums import AgreementStatus
from ..models import Agreement, Signature, user_organisations_changed
from ..permissions import may_create

DASHBOARD_PAGE_SIZE = 20


_PERSON = ("first_name", "last_name", "username")


# The columns the dashboard's list shows: the rows load these, not the whole SLA.
DASHBOARD_COLUMNS = (
    "status",
    "start_date",
    "end_date",
    "geographic_unit",
    "group_subgroup",
    "updated_at",
    "organisation__name",
    *(
        f"{person}__{name}"
        for person in ("marketing_representative", "sales_representative", "updated_by")
        for name in _PERSON
    ),
)


# The kept list earns its place: at 10'000 agreements the dashboard answers 2.4 times
# faster from it than rendering the list each time (bench/caches.py, bench/results.md
# "Caches"). What keeps it true: signals.py and models.organisation._memberships.
# How long a rendered list is kept. Its key changes whenever what it shows can have
# changed, so this bounds the memory that lists of old contents hold, and how long a
# list could outlive a change that no timestamp tells (a server clock set back).
DASHBOARD_LIST_SECONDS = 10 * 60


SIGNED_LIST_PAGE_SIZE = 20


class DashboardList(NamedTuple):
    """One page of the dashboard's list as kept in the cache: its figures and its HTML."""

    count: int  # agreements found, on all pages
    number: int  # this page's number (an out-of-range or bad one becomes a real one)
    pages: int
    html: str  # the table and the page links; "" when nothing was found


@login_required
@require_safe
def dashboard(request):
    """The agreements of the user's organisations, filtered by status and search, paged.

    The list is rendered once and kept in the cache for as long as nothing it shows
    changes (``_dashboard_list_key``): a request that finds it reads no agreement at all,
    only the user's memberships, which every page reads anyway.
    """
    status = request.GET.get("status", "")
    if status not in AgreementStatus.values:
        status = ""
    # PostgreSQL refuses a NUL character in a query parameter (a 500); it is never part
    # of a name anyone searches for.
    query = request.GET.get("q", "").replace("\x00", "").strip()[:200]
    filters = {name: value for name, value in (("status", status), ("q", query)) if value}
    page_number = request.GET.get("page", "")[:20]
    key = _dashboard_list_key(request.user, filters, page_number)
    listing = cache.get(key)
    if listing is None:
        listing = _dashboard_list(request.user, filters, page_number)
        cache.set(key, listing, DASHBOARD_LIST_SECONDS)
    context = {
        # The user's own call to action: read for every request, never part of the kept
        # list, which is shared by every member of the same organisations.
        "awaiting_signature": list(
            Agreement.objects.awaiting_signature_of(request.user)
            .select_related("organisation")
            .only("start_date", "end_date", "organisation__name")
            .order_by("submitted_at", "pk")
        ),
        "listing": listing,
        "status": status,
        "query": query,
        "filtered": bool(filters),
        "statuses": AgreementStatus.choices,
        "can_create": may_create(request.user),
    }
    return render(request, "agreements/dashboard.html", context)


def _dashboard_list(user, filters: dict, page_number: str) -> DashboardList:
    agreements = Agreement.objects.visible_to(user)
    if "status" in filters:
        agreements = agreements.filter(status=filters["status"])
    if "q" in filters:
        agreements = agreements.search(filters["q"])
    paginator = Paginator(
        agreements.select_related(
            "organisation", "marketing_representative", "sales_representative", "updated_by"
        )
        .only(*DASHBOARD_COLUMNS)
        .order_by("-updated_at", "-pk"),
        DASHBOARD_PAGE_SIZE,
    )
    page = paginator.get_page(page_number)
    html = ""
    if paginator.count:
        html = render_to_string(
            "agreements/_dashboard_list.html",
            {
                "page": page,
                "page_range": paginator.get_elided_page_range(
                    page.number, on_each_side=2, on_ends=1
                ),
                # Page links carry the filters and nothing else of the request: the list
                # is shared by every member of the same organisations.
                "page_query": urlencode(filters),
            },
        )
    return DashboardList(paginator.count, page.number, paginator.num_pages, html)


def _dashboard_list_key(user, filters: dict, page_number: str) -> str:
    """The cache key of one page of the dashboard's list: everything it depends on.

    For each of the user's organisations its ``updated_at`` (moved by a new name of the
    organisation or of one of its people, and by a deleted agreement: ``signals.py``)
    and the last ``updated_at`` of its agreements (every write of an agreement moves it,
    and a new one comes last); then the filters and page, language and time zone. Members
    of the same organisations share it: the list shows nothing of the user who asks.
    """
    parts = (
        sorted(user_organisations_changed(user).items()),
        sorted(filters.items()),
        page_number,
        get_language(),
        timezone.get_current_timezone_name(),
    )
    return "dashboard-list:" + hashlib.sha256(repr(parts).encode()).hexdigest()


@login_required
@require_safe
def signed_agreements(request):
    """Every signed agreement of the user's organisations, each with its PDF to download.

    For management above all, who read rather than write. Paged like the dashboard, so
    that years of agreements cost no more than one page; a constant number of queries:
    the valid signatures with their signers' job titles come in one prefetch per page.
    """
    agreements = (
        Agreement.objects.visible_to(request.user)
        .signed()
        .select_related("organisation")
        .prefetch_related(
            Prefetch(
                "signatures",
                queryset=Signature.objects.valid().with_job_title().order_by("signed_at"),
                to_attr="valid_signatures",
            )
        )
        .order_by("-start_date", "-completed_at", "-pk")
    )
    page = Paginator(agreements, SIGNED_LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "page_range": page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
    }
    return render(request, "agreements/signed_list.html", context)
