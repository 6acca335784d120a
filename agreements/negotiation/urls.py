from django.urls import path

from . import views

urlpatterns = [
    path("agreements/<int:pk>/verlauf/", views.agreement_history, name="agreement_history"),
    path(
        "agreements/<int:pk>/kommentare/",
        views.agreement_comment_add,
        name="agreement_comment_add",
    ),
    path(
        "agreements/<int:pk>/kommentare/<int:comment_id>/bearbeiten/",
        views.agreement_comment_edit,
        name="agreement_comment_edit",
    ),
    path(
        "agreements/<int:pk>/diskussionen/<int:thread_id>/erledigt/",
        views.agreement_thread_resolve,
        name="agreement_thread_resolve",
    ),
]
