from django.urls import path

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
    path("agreements/<int:pk>/pdf/", views.agreement_pdf, name="agreement_pdf"),
    path("unterzeichnet/", views.signed_agreements, name="signed_agreements"),
    path("pruefen/", views.pdf_verify, name="pdf_verify"),
    path("agreements/<int:pk>/einreichen/", views.agreement_submit, name="agreement_submit"),
    path("agreements/<int:pk>/unterzeichnen/", views.agreement_sign, name="agreement_sign"),
    path("agreements/<int:pk>/ablehnen/", views.agreement_decline, name="agreement_decline"),
    path("agreements/<int:pk>/zurueckziehen/", views.agreement_reopen, name="agreement_reopen"),
]
