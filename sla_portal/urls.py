"""URLs of the portal. Uploaded files have no public URL: views stream them after a check."""

from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "SLA-Portal"
admin.site.site_title = "SLA-Portal"
# The admin's own log-in would skip the second factor, the SSO rule and allauth's limits:
# it sends visitors to the portal's log-in instead.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    # django-allauth: log-in, log-out, password change and reset, single sign-on (OpenID
    # Connect), second factors (mfa). Sign-up is closed (agreements.identity.adapters).
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("", include("agreements.team.urls")),
    path("", include("agreements.urls")),
]

# Our own error pages (sla_portal.errors), German and English, in the portal's layout.
handler400 = "sla_portal.errors.bad_request"
handler403 = "sla_portal.errors.permission_denied"
handler404 = "sla_portal.errors.page_not_found"
handler500 = "sla_portal.errors.server_error"
