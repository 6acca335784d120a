"""Goals: Ist-Werte, the management dashboard, its PDF and CSV."""

import datetime
import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.forms.models import model_to_dict
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_safe

from .. import actuals, actuals_csv, attainment, goals_chart
from ..audit import RequestMeta
from ..forms import ActualsImportForm, PeriodActualsForm
from ..models import Agreement, PeriodActuals
from ..numbers import format_figure
from ..pdf import PdfRenderError, render_goals_pdf
from ..permissions import (
    Action,
    actuals_fields_for,
    can_enter_actuals,
    get_agreement_for,
    role_in,
)
from .lists import DASHBOARD_PAGE_SIZE
from .pdf import pdf_unavailable
from .responses import private_file_response

logger = logging.getLogger(__name__)


@login_required
@require_safe
def goals_overview(request):
    """Every signed agreement of the user's organisations with its goals' status lights."""
    agreements = (
        Agreement.objects.visible_to(request.user)
        .signed()
        .select_related("organisation")
        .order_by("-start_date", "-pk")
    )
    page = Paginator(agreements, DASHBOARD_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "agreements/goals_overview.html",
        {"page": page, "reports": attainment.goal_reports(list(page.object_list))},
    )


@login_required
@require_safe
def agreement_goals(request, pk: int):
    """The management dashboard of one signed agreement: attainment per period, charts."""
    agreement = get_agreement_for(request.user, pk, Action.VIEW_GOALS)
    report = attainment.goal_report(agreement, PeriodActuals.objects.filter(agreement=agreement))
    return render(
        request,
        "agreements/goals.html",
        {
            "agreement": agreement,
            "report": report,
            "sql_chart": goals_chart.sql_attainment_svg(report.rows),
            "funnel_chart": goals_chart.funnel_attainment_svg(report.funnel),
            "can_enter": can_enter_actuals(request.user, agreement),
            "thresholds": (attainment.LIGHT_GREEN_FROM, attainment.LIGHT_YELLOW_FROM),
        },
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def agreement_actuals(request, pk: int):
    """The periods of a signed agreement, each with a form for the user's own figures.

    Every member reads; marketing and sales save their figures (POST, one period at a time).
    """
    action = Action.ENTER_ACTUALS if request.method == "POST" else Action.VIEW_GOALS
    agreement = get_agreement_for(request.user, pk, action)
    role = role_in(request.user, agreement.organisation_id)
    editable = actuals_fields_for(role)
    stored = {a.period_start: a for a in PeriodActuals.objects.filter(agreement=agreement)}
    periods = actuals.agreement_periods(agreement)
    bound_start, bound_form = None, None
    if request.method == "POST":
        bound_start = _posted_period(request, periods)
        bound_form = PeriodActualsForm(
            request.POST,
            editable=editable,
            initial=model_to_dict(stored.get(bound_start), fields=actuals.ACTUALS_FIELDS)
            if stored.get(bound_start)
            else {},
            prefix=f"p{bound_start:%Y%m%d}",
        )
        if bound_form.is_valid():
            entry = actuals.ActualsEntry(
                period_start=bound_start, values=bound_form.changed_values()
            )
            try:
                actuals.actuals_save(
                    agreement=agreement,
                    user=request.user,
                    role=role,
                    entries=[entry],
                    meta=RequestMeta.from_request(request),
                )
            except actuals.ActualsRefused:
                raise PermissionDenied from None
            except ValidationError as error:
                bound_form.add_error(None, error)
            else:
                messages.success(request, _("Die Ist-Werte sind gespeichert."))
                return redirect(
                    f"{reverse('agreement_actuals', args=[agreement.pk])}#p{bound_start:%Y%m%d}"
                )
    rows = []
    for period in periods:
        entry = stored.get(period.start)
        if period.start == bound_start:
            form = bound_form
        elif editable:
            initial = model_to_dict(entry, fields=actuals.ACTUALS_FIELDS) if entry else {}
            form = PeriodActualsForm(
                editable=editable, initial=initial, prefix=f"p{period.start:%Y%m%d}"
            )
        else:
            form = None
        figures = [
            (
                PeriodActuals._meta.get_field(name).verbose_name,
                format_figure(getattr(entry, name, None)),
            )
            for name in actuals.ACTUALS_FIELDS
        ]
        rows.append({"period": period, "actuals": entry, "form": form, "figures": figures})
    return render(
        request,
        "agreements/actuals.html",
        {
            "agreement": agreement,
            "rows": rows,
            "role": role,
            "editable": editable,
            "columns": actuals_csv.COLUMNS,
        },
        status=400 if bound_form is not None else 200,
    )


def _posted_period(request, periods):
    try:
        start = datetime.date.fromisoformat(request.POST.get("period", ""))
    except ValueError:
        raise Http404 from None
    if start not in {p.start for p in periods}:
        raise Http404
    return start


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def agreement_actuals_import(request, pk: int):
    """Upload a CSV report, see what it would save, then save it all or nothing.

    The preview carries the parsed lines signed (``actuals_csv.preview_seal``): the
    confirmation saves exactly what was shown, and a changed field is refused.
    """
    agreement = get_agreement_for(request.user, pk, Action.ENTER_ACTUALS)
    role = role_in(request.user, agreement.organisation_id)
    context = {"agreement": agreement, "columns": actuals_csv.COLUMNS, "role": role}
    if request.method == "POST" and "payload" in request.POST:
        try:
            entries = actuals_csv.preview_open(
                token=request.POST["payload"], agreement=agreement, user=request.user
            )
        except actuals_csv.PreviewExpired:
            messages.error(
                request, _("Die Vorschau ist abgelaufen. Bitte die Datei erneut hochladen.")
            )
            return redirect("agreement_actuals_import", agreement.pk)
        except actuals_csv.PreviewForeign:
            raise PermissionDenied from None
        try:
            actuals.actuals_save(
                agreement=agreement,
                user=request.user,
                role=role,
                entries=entries,
                meta=RequestMeta.from_request(request),
            )
        except actuals.ActualsRefused:
            raise PermissionDenied from None
        except ValidationError as error:
            context.update(form=ActualsImportForm(), errors=error.messages)
            return render(request, "agreements/actuals_import.html", context, status=400)
        messages.success(
            request,
            ngettext(
                "%(count)s Periode importiert.", "%(count)s Perioden importiert.", len(entries)
            )
            % {"count": len(entries)},
        )
        return redirect("agreement_actuals", agreement.pk)
    if request.method == "POST":
        form = ActualsImportForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data["csv_file"].read(actuals_csv.MAX_BYTES + 1)
            result = actuals_csv.actuals_csv_parse(agreement=agreement, data=data, role=role)
            context.update(form=form, result=result)
            if result.ok:
                context["payload"] = actuals_csv.preview_seal(
                    agreement=agreement, user=request.user, entries=result.entries
                )
                context["preview"] = actuals_csv.preview_rows(agreement, result)
                return render(request, "agreements/actuals_import.html", context)
            return render(request, "agreements/actuals_import.html", context, status=400)
        context["form"] = form
        return render(request, "agreements/actuals_import.html", context, status=400)
    context["form"] = ActualsImportForm()
    return render(request, "agreements/actuals_import.html", context)


@login_required
@require_GET
def agreement_goals_pdf(request, pk: int):
    """The dashboard as the German PDF "Zielerreichung" for the Geschäftsleitung."""
    agreement = get_agreement_for(request.user, pk, Action.VIEW_GOALS)
    report = attainment.goal_report(agreement, PeriodActuals.objects.filter(agreement=agreement))
    try:
        pdf = render_goals_pdf(report, generated_at=timezone.now())
    except PdfRenderError:
        logger.exception("Goals report of agreement %s could not be rendered", agreement.pk)
        return pdf_unavailable(request, agreement, reason="failed")
    return private_file_response(
        pdf, filename=f"Zielerreichung-SLA-{agreement.pk}.pdf", content_type="application/pdf"
    )


@login_required
@require_GET
def agreement_actuals_csv(request, pk: int):
    """The Ist-Werte as CSV for Excel (semicolon, UTF-8 with BOM); re-importable."""
    agreement = get_agreement_for(request.user, pk, Action.VIEW_GOALS)
    text = actuals_csv.actuals_csv_export(
        agreement, PeriodActuals.objects.filter(agreement=agreement)
    )
    return private_file_response(
        text.encode("utf-8"),
        filename=f"Ist-Werte-SLA-{agreement.pk}.csv",
        content_type="text/csv; charset=utf-8",
    )
