"""URLs of the portal. Uploaded files have no public URL: views stream them after a check."""

from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "SLA-Portal"
admin.site.site_title = "SLA-Portal"

urlpatterns = [
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("", include("agreements.urls")),
]
