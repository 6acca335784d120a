from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("agreements/new/", views.agreement_create, name="agreement_create"),
    path("agreements/<int:pk>/", views.agreement_detail, name="agreement_detail"),
    path(
        "agreements/<int:pk>/rahmendokument/",
        views.agreement_framework_document,
        name="agreement_framework_document",
    ),
    path(
        "agreements/<int:pk>/bearbeiten/<slug:step>/", views.agreement_step, name="agreement_step"
    ),
    path(
        "agreements/<int:pk>/bearbeiten/<slug:step>/vorschau/",
        views.agreement_step_preview,
        name="agreement_step_preview",
    ),
    path("agreements/<int:pk>/pdf/", views.agreement_pdf, name="agreement_pdf"),
    path("agreements/<int:pk>/pdf/stand/", views.agreement_pdf_state, name="agreement_pdf_state"),
    path("unterzeichnet/", views.signed_agreements, name="signed_agreements"),
    path("pruefen/", views.pdf_verify, name="pdf_verify"),
    path("agreements/<int:pk>/einreichen/", views.agreement_submit, name="agreement_submit"),
    path("agreements/<int:pk>/unterzeichnen/", views.agreement_sign, name="agreement_sign"),
    path("agreements/<int:pk>/ablehnen/", views.agreement_decline, name="agreement_decline"),
    path("agreements/<int:pk>/zurueckziehen/", views.agreement_reopen, name="agreement_reopen"),
    path("agreements/<int:pk>/erneuern/", views.agreement_renew, name="agreement_renew"),
    # Goals (issue 8): Ist-Werte, the management dashboard, its PDF and CSV.
    path("ziele/", views.goals_overview, name="goals_overview"),
    path("agreements/<int:pk>/ziele/", views.agreement_goals, name="agreement_goals"),
    path("agreements/<int:pk>/ziele/pdf/", views.agreement_goals_pdf, name="agreement_goals_pdf"),
    path("agreements/<int:pk>/ist-werte/", views.agreement_actuals, name="agreement_actuals"),
    path(
        "agreements/<int:pk>/ist-werte/import/",
        views.agreement_actuals_import,
        name="agreement_actuals_import",
    ),
    path(
        "agreements/<int:pk>/ist-werte/csv/",
        views.agreement_actuals_csv,
        name="agreement_actuals_csv",
    ),
    # Negotiation (issue 21): the history, the comments.
    path("", include("agreements.negotiation.urls")),
]
