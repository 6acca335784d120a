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
]
