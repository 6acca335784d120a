from django.urls import path

from . import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("agreements/<int:pk>/", views.agreement_detail, name="agreement_detail"),
]
