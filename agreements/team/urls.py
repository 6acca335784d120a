from django.urls import path

from . import views

urlpatterns = [
    path("organisationen/neu/", views.organisation_create, name="organisation_create"),
    path("organisationen/<int:pk>/team/", views.team, name="team"),
    path("organisationen/<int:pk>/team/einladen/", views.team_invite, name="team_invite"),
    path(
        "organisationen/<int:pk>/team/mitglieder/<int:membership_pk>/",
        views.team_member_change,
        name="team_member_change",
    ),
    path(
        "organisationen/<int:pk>/team/mitglieder/<int:membership_pk>/entfernen/",
        views.team_member_remove,
        name="team_member_remove",
    ),
    path(
        "organisationen/<int:pk>/team/einladungen/<int:invitation_pk>/erneut-senden/",
        views.team_invitation_resend,
        name="team_invitation_resend",
    ),
    path(
        "organisationen/<int:pk>/team/einladungen/<int:invitation_pk>/widerrufen/",
        views.team_invitation_revoke,
        name="team_invitation_revoke",
    ),
    path("einladung/<str:token>/", views.invitation_accept, name="invitation_accept"),
]
