import allauth.account.admin  # noqa: F401 (registers its pages, replaced below)
import allauth.mfa.admin  # noqa: F401
import allauth.socialaccount.admin  # noqa: F401
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.socialaccount.admin import SocialAppAdmin as BaseSocialAppAdmin
from allauth.socialaccount.admin import SocialAppForm as BaseSocialAppForm
from allauth.socialaccount.models import SocialApp, SocialToken
from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm as BaseUserChangeForm
from django.contrib.auth.forms import UserCreationForm as BaseUserCreationForm
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop, ngettext
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser

from agreements.models import Agreement, AuditEvent, Effect, Origin, Program, User
from agreements.sign_on import settings_part

# django-allauth's own admin pages, imported above so that they are registered
# now, then replaced: the account's email is User.email (allauth keeps its own
# record only of an account single sign-on made), an authenticator's page must
# not show its secret, and
# no provider's tokens are kept (SOCIALACCOUNT_STORE_TOKENS). Identity
# providers are allauth's "social applications"; the identities connected to
# accounts, its "social accounts" (docs/operations.md).
admin.site.unregister(EmailAddress)
admin.site.unregister(Authenticator)
admin.site.unregister(SocialToken)
admin.site.unregister(SocialApp)


class SocialAppForm(BaseSocialAppForm):
    """allauth's form for an identity provider, which a SAML one may also
    fill from its metadata file (the IdP's entity ID, signing certificate and
    sign-on address into ``settings["idp"]``), for an IdP that publishes no
    metadata URL."""

    idp_metadata = forms.FileField(
        label=gettext_lazy("SAML metadata file"),
        required=False,
        help_text=gettext_lazy(
            "SAML only: the identity provider's metadata (XML). It fills the “idp” of the "
            "settings; the rest of the settings stay as written."
        ),
    )

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("idp_metadata")
        if not upload:
            self._name_saml_provider(cleaned, settings_part(cleaned.get("settings")).get("idp"))
            return cleaned
        if cleaned.get("provider") != "saml":
            self.add_error("idp_metadata", _("A metadata file is for a SAML provider only."))
            return cleaned
        try:
            idp = OneLogin_Saml2_IdPMetadataParser.parse(upload.read())["idp"]
            certificate = idp.get("x509cert") or idp["x509certMulti"]["signing"][0]
            idp_settings = {
                "entity_id": idp["entityId"],
                "x509cert": certificate,
                "sso_url": idp["singleSignOnService"]["url"],
            }
        except Exception:  # the parser raises what lxml or its own checks raise
            self.add_error(
                "idp_metadata",
                _(
                    "This is not an identity provider's SAML metadata with a sign-on address "
                    "and a signing certificate."
                ),
            )
            return cleaned
        cleaned["settings"] = {**(cleaned.get("settings") or {}), "idp": idp_settings}
        self._name_saml_provider(cleaned, idp_settings)
        return cleaned

    def _name_saml_provider(self, cleaned, idp):
        """A new SAML provider's ID is its IdP's entity ID: an IdP's
        identifiers of people are unique only within it, and two IdPs under
        the one default name would share them. (Not changed later: the
        identities connected under it would be lost.)"""
        if cleaned.get("provider") != "saml" or cleaned.get("provider_id") or self.instance.pk:
            return
        entity_id = settings_part(idp).get("entity_id")
        if entity_id:
            cleaned["provider_id"] = entity_id
        else:
            self.add_error(
                "provider_id", _("Give the IdP's entity ID as the provider ID of a SAML provider.")
            )


@admin.register(SocialApp)
class SocialAppAdmin(BaseSocialAppAdmin):
    """An identity provider for single sign-on (docs/operations.md)."""

    form = SocialAppForm


class UserCreationForm(BaseUserCreationForm):
    class Meta:
        model = User
        fields = ["email", "full_name"]


class UserChangeForm(BaseUserChangeForm):
    class Meta:
        model = User
        fields = ["email", "full_name"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    ordering = ["email"]
    list_display = ["email", "full_name", "is_active", "is_staff", "is_superuser"]
    search_fields = ["email", "full_name"]
    fieldsets = [
        (None, {"fields": ["email", "password", "full_name"]}),
        (
            gettext_lazy("Permissions"),
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        (gettext_lazy("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "full_name", "password1", "password2"]}),
    ]


@admin.register(Authenticator)
class AuthenticatorAdmin(admin.ModelAdmin):
    """Who has which second factor, for someone who lost theirs: a superuser
    deletes it, and the person logs in with their password alone again. The
    secret (a TOTP key, a passkey's public key, the recovery codes' seed) is
    never shown."""

    list_display = ["user", "type", "created_at", "last_used_at"]
    list_filter = ["type"]
    list_select_related = ["user"]
    search_fields = ["user__email", "user__full_name"]
    fields = ["user", "type", "created_at", "last_used_at"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Program)
class ProgramAdmin(admin.ModelAdmin):
    list_display = ["name", "created_at"]
    search_fields = ["name"]
    filter_horizontal = ["admins", "sign_on_providers"]


@admin.register(Agreement)
class AgreementAdmin(admin.ModelAdmin):
    """Pairing metadata only: the agreement's content stays with the pair."""

    list_display = ["mentor", "mentee", "program", "status", "last_activity_at"]
    list_filter = ["status", "program"]
    list_select_related = ["mentor", "mentee", "program"]
    search_fields = ["mentor__full_name", "mentor__email", "mentee__full_name", "mentee__email"]
    fields = [
        "uuid", "program", "mentor", "mentee", "status",
        "created_by", "created_at", "last_activity_at", "activated_at", "ended_at",
    ]  # fmt: skip
    readonly_fields = fields

    def has_add_permission(self, request):
        # Pairings are created in the app so every agreement gets its sections.
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Someone other than the pair looked at the agreement: the pair sees it
        # in their audit trail.
        agreement = self.get_object(request, object_id)
        if agreement is not None and agreement.party_of(request.user) is None:
            agreement.audit_access(
                AuditEvent.Kind.VIEWED,
                actor=request.user,
                origin=Origin.of(request),
                # A record in the hashed trail, in the source words; the trail
                # shows it in the reader's language.
                details={
                    "where": gettext_noop("site administration (pairing details, no content)")
                },
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        # Deleting would list the content rows it takes along, and erase a
        # signed record; pairings are ended, not deleted.
        return False


class OutstandingFilter(admin.SimpleListFilter):
    """Opens on what needs an operator: effects not done yet."""

    title = gettext_lazy("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [
            ("outstanding", _("Pending or failed")),
            *Effect.State.choices,
            ("all", _("All")),
        ]

    def choices(self, changelist):
        for lookup, title in self.lookup_choices:
            yield {
                "selected": (self.value() or "outstanding") == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        value = self.value() or "outstanding"
        if value == "outstanding":
            return queryset.outstanding()
        if value in Effect.State.values:
            return queryset.filter(state=value)
        return queryset


@admin.register(Effect)
class EffectAdmin(admin.ModelAdmin):
    """Emails, seals and renders promised after a move: what is still pending,
    what failed and why, and a way to try again. Ids only, never content."""

    # What needs a look first; the kind is in the key and the filter.
    list_display = ["state", "key", "attempts", "last_error", "next_attempt_at", "created_at"]
    list_display_links = ["key"]
    list_filter = [OutstandingFilter, "kind"]
    search_fields = ["key"]
    fields = [
        "key", "kind", "state", "attempts", "last_error",
        "next_attempt_at", "running_until", "created_at", "done_at",
    ]  # fmt: skip
    readonly_fields = fields
    actions = ["try_again"]

    def has_module_permission(self, request):
        # Superusers only, whatever permissions a staff account was given.
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=gettext_lazy("Try the selected effects again now"))
    def try_again(self, request, queryset):
        count = sum(effect.retry() for effect in queryset)
        self.message_user(
            request,
            ngettext(
                "%(count)s effect queued again; the task worker tries each within seconds.",
                "%(count)s effects queued again; the task worker tries each within seconds.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )
