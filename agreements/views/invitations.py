from allauth.mfa.utils import is_mfa_enabled
from django.contrib import messages
from django.contrib.auth.views import PasswordResetConfirmView
from django.urls import reverse_lazy
from django.utils.translation import gettext as _

from agreements.forms.accounts import NewPasswordForm
from agreements.invitations import invitation_tokens
from agreements.lockouts import mark_known_device


class InvitationAcceptView(PasswordResetConfirmView):
    """An invited person chooses their password, once, and is signed in
    (with a second factor, they log in with it next); this browser becomes
    one their account knows (``lockouts.mark_known_device``).

    Django's reset view does the work: it moves the token out of the URL
    into the session before showing the form, and checks it again on POST.
    """

    token_generator = invitation_tokens
    form_class = NewPasswordForm
    template_name = "registration/invitation_accept.html"
    post_reset_login = True
    post_reset_login_backend = "django.contrib.auth.backends.ModelBackend"
    success_url = reverse_lazy("agreements:home")

    def form_valid(self, form):
        if is_mfa_enabled(form.user):
            # A second factor is asked at every login: a link never stands in
            # for it (a superuser may have made a password unusable).
            self.post_reset_login = False
            self.success_url = reverse_lazy("login")
            return mark_known_device(super().form_valid(form), form.user)
        response = super().form_valid(form)
        messages.success(
            self.request,
            _("Welcome, %(name)s. Your password is set; your agreement is below.")
            % {"name": form.user.full_name},
        )
        return mark_known_device(response, form.user)


invitation_accept = InvitationAcceptView.as_view()
