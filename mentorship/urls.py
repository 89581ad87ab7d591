from django.contrib import admin
from django.urls import include, path

from agreements.views import invitations, verify

admin.site.site_header = "Mentorship administration"

urlpatterns = [
    path(
        "accounts/invitation/<uidb64>/<token>/",
        invitations.invitation_accept,
        name="invitation_accept",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    # Public: anyone holding a signed PDF may check it, without an account.
    path("verify/", verify.verify, name="verify"),
    path("verify/root.pem", verify.root_certificate, name="verify_root_certificate"),
    path("", include("agreements.urls")),
]
