from django.contrib import admin
from django.contrib.auth.views import LoginView, PasswordResetConfirmView, PasswordResetView
from django.urls import include, path

from agreements.forms.accounts import (
    AdminLoginForm,
    LoginForm,
    NewPasswordForm,
    PasswordResetForm,
)
from agreements.views import accounts, invitations, pages, verify

admin.site.site_header = "Mentorship administration"
admin.site.login_form = AdminLoginForm

urlpatterns = [
    path(
        "accounts/invitation/<uidb64>/<token>/",
        invitations.invitation_accept,
        name="invitation_accept",
    ),
    # Before Django's own: the same view, with a form that refuses over-long names.
    path("accounts/login/", LoginView.as_view(authentication_form=LoginForm), name="login"),
    path(
        "accounts/password_reset/",
        PasswordResetView.as_view(form_class=PasswordResetForm),
        name="password_reset",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        PasswordResetConfirmView.as_view(form_class=NewPasswordForm),
        name="password_reset_confirm",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    # Public: anyone holding a signed PDF may check it, without an account.
    path("verify/", verify.verify, name="verify"),
    path("verify/root.pem", verify.root_certificate, name="verify_root_certificate"),
    # Public: what the app is for, and how accessible it is.
    path("how-it-works/", pages.how_it_works, name="how_it_works"),
    path("accessibility/", pages.accessibility, name="accessibility"),
    # Public: the language switcher at the foot of every page.
    path("language/", accounts.language, name="language"),
    path("", include("agreements.urls")),
]
