from allauth.account import views as allauth_views
from allauth.account.decorators import secure_admin_login
from allauth.socialaccount import views as socialaccount_views
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path

from agreements.forms.accounts import PasswordResetForm
from agreements.views import accounts, invitations, pages, verify

logout = auth_views.LogoutView.as_view()
password_change = auth_views.PasswordChangeView.as_view()
password_reset = auth_views.PasswordResetView.as_view(form_class=PasswordResetForm)

admin.site.site_header = "Mentorship administration"
# Staff sign in where everyone does, second factor included.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]

urlpatterns = [
    path(
        "accounts/invitation/<uidb64>/<token>/",
        invitations.invitation_accept,
        name="invitation_accept",
    ),
    # Signing in is django-allauth's flow (settings: ACCOUNT_*, MFA_*): the
    # login page, its second step, passkeys, and the two-factor settings.
    # Only these of its views: accounts come from invitations, and resetting
    # or changing a password stays the app's. Django's auth views are listed
    # one by one, never its whole urls module: its own login view would let
    # a password in without the second factor.
    path("accounts/login/", allauth_views.login, name="login"),
    path("accounts/reauthenticate/", allauth_views.reauthenticate, name="account_reauthenticate"),
    path("accounts/2fa/", include("allauth.mfa.urls")),
    # Single sign-on with the identity providers a superuser connected:
    # OpenID Connect (accounts/oidc/<provider>/login/ and its callback) and
    # SAML 2.0 (accounts/saml/<organisation>/: login, acs, sls, metadata).
    # Not allauth's pages to connect or sign up: accounts are matched by
    # their address, or made by a program's choice (SocialAccountAdapter).
    path("accounts/", include("allauth.socialaccount.providers.openid_connect.urls")),
    path("accounts/", include("allauth.socialaccount.providers.saml.urls")),
    path(
        "accounts/sign-on/cancelled/",
        socialaccount_views.login_cancelled,
        name="socialaccount_login_cancelled",
    ),
    path(
        "accounts/sign-on/error/",
        # Whoever's login failed is not logged in: no login asked first.
        login_not_required(socialaccount_views.login_error),
        name="socialaccount_login_error",
    ),
    path("accounts/inactive/", allauth_views.account_inactive, name="account_inactive"),
    path("accounts/logout/", logout, name="logout"),
    path("accounts/password_change/", password_change, name="password_change"),
    path(
        "accounts/password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("accounts/password_reset/", password_reset, name="password_reset"),
    path(
        "accounts/password_reset/done/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        accounts.password_reset_confirm,
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    # The names allauth's views and templates link to, on the app's pages
    # (reversed only: the same addresses are served above).
    path("accounts/login/", allauth_views.login, name="account_login"),
    path("accounts/logout/", logout, name="account_logout"),
    path("accounts/password_reset/", password_reset, name="account_reset_password"),
    path("accounts/password_change/", password_change, name="account_change_password"),
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
