"""Pages of the portal. Thin: fetch through ``permissions``, render, redirect."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from .document import SlaDocument
from .models import Agreement
from .permissions import Action, get_agreement_for


@login_required
def dashboard(request):
    agreements = (
        Agreement.objects.visible_to(request.user)
        .select_related("organisation", "marketing_representative", "sales_representative")
        .order_by("-updated_at")
    )
    return render(request, "agreements/dashboard.html", {"agreements": agreements})


@login_required
def agreement_detail(request, pk: int):
    agreement = get_agreement_for(request.user, pk, Action.VIEW)
    doc = SlaDocument(agreement)
    return render(request, "agreements/detail.html", {"agreement": agreement, "doc": doc})
