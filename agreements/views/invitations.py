from django.contrib import messages
from django.contrib.auth.views import PasswordResetConfirmView
from django.urls import reverse_lazy
from django.utils.translation import gettext as _

from agreements.forms.accounts import NewPasswordForm
from agreements.invitations import invitation_tokens


class InvitationAcceptView(PasswordResetConfirmView):
    """An invited person chooses their password, once, and is signed in.

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
        response = super().form_valid(form)
        messages.success(
            self.request,
            _("Welcome, %(name)s. Your password is set; your agreement is below.")
            % {"name": form.user.full_name},
        )
        return response


invitation_accept = InvitationAcceptView.as_view()
