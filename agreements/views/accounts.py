"""The signed-in person's own account: their language, time zone and emails
about discussions; and the language switcher, for everyone."""

from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import PasswordResetConfirmView
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from agreements.forms import AccountForm
from agreements.forms.accounts import NewPasswordForm
from agreements.lockouts import mark_known_device


def account(request):
    form = AccountForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        # Signed in, the account's language wins over the switcher's cookie;
        # "the language of your browser" clears the cookie, or it would win.
        chosen = request.user.language
        if not chosen:
            request.COOKIES.pop(settings.LANGUAGE_COOKIE_NAME, None)
        # The message shows on the next page: in the language it will be in.
        translation.activate(chosen or translation.get_language_from_request(request))
        zone = form.cleaned_data["time_zone"]
        # Translators: a time zone name such as Europe/London.
        messages.success(request, _("Your time zone is now %(time_zone)s.") % {"time_zone": zone})
        response = redirect("agreements:account")
        if not chosen:
            response.delete_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                path=settings.LANGUAGE_COOKIE_PATH,
                domain=settings.LANGUAGE_COOKIE_DOMAIN,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,
            )
        return response
    context = {"form": form, "second_factor": is_mfa_enabled(request.user)}
    return render(request, "agreements/account.html", context)


@login_not_required
@require_POST
def language(request):
    """The switcher at the foot of every page: Django's ``set_language``
    remembers the choice in this browser (a cookie); for someone signed in it
    becomes their account's language too, which follows them to every browser
    and into their emails."""
    response = set_language(request)
    chosen = request.POST.get("language", "")
    user = request.user
    if user.is_authenticated and chosen in dict(settings.LANGUAGES) and chosen != user.language:
        user.language = chosen
        user.save(update_fields=["language"])
    return response


class PasswordResetConfirm(PasswordResetConfirmView):
    """Django's view, with the form that lifts the account's lockouts; and
    the browser that followed the emailed link becomes one the account knows
    (``lockouts.mark_known_device``), so the ceiling of wrong passwords
    someone else keeps it at never holds its owner here."""

    form_class = NewPasswordForm

    def form_valid(self, form):
        return mark_known_device(super().form_valid(form), form.user)


password_reset_confirm = PasswordResetConfirm.as_view()
