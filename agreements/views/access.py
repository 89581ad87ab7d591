"""How views reach what they show, and how they make a move.

Every view gets its agreement or program here: scoped to the user, a 404 for
anyone else (whether it exists is nobody else's business); an admin of a
program that asks for a second factor is sent to add one first, and a member
of a program that asks for single sign-on is asked to log in with it. A view that
moves an agreement does it through ``attempt`` (or ``moved``): make the move,
say what happened, go back.
"""

from urllib.parse import urlsplit

from allauth.core.exceptions import ImmediateHttpResponse
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.contrib import messages
from django.db.models import OuterRef, Q, Subquery, prefetch_related_objects
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from agreements import sign_on
from agreements.exceptions import AgreementError
from agreements.models import Agreement, AgreementVersion, Program
from agreements.models.agreement import record_lookups


def agreement_for(request, agreement_id, *, working_copy=True, records=False):
    """The agreement if the user is its mentor or its mentee, else 404.

    Preloads its working copy (sections, parties, program, term, versions,
    signatures: what the agreement page and the PDF show) unless
    ``working_copy=False`` (then only its parties, in the same query), and
    if ``records=True`` what happened since signing (check-ins, meetings,
    closing notes...: ``record_lookups``), only for an agreement that has
    been in force: a draft has none, and its pages skip their five queries.
    """
    agreements = Agreement.objects.for_party(request.user).select_related(
        "mentor", "mentee", "program"
    )
    if working_copy or records:
        agreements = agreements.with_working_copy()
    agreement = get_object_or_404(agreements, uuid=agreement_id)
    _require_sign_on(request, agreement.program)
    if records and agreement.version_in_force:
        prefetch_related_objects([agreement], *record_lookups())
    return agreement


def agreement_for_pdf(request, agreement_id):
    """The agreement if the user is one of its parties, else 404: its row and
    its parties (its row holds its trail's newest entry, ``audit_length`` and
    ``audit_head``) and the number of its version in force
    (``in_force_number``), in one query."""
    in_force = AgreementVersion.objects.filter(
        agreement=OuterRef("pk"), status=AgreementVersion.Status.IN_FORCE
    )
    agreements = (
        Agreement.objects.for_party(request.user)
        .select_related("mentor", "mentee", "program")
        .annotate(in_force_number=Subquery(in_force.order_by().values("number")))
    )
    agreement = get_object_or_404(agreements, uuid=agreement_id)
    _require_sign_on(request, agreement.program)
    return agreement


def version_to_download(request, agreement_id, number):
    """A signed version of an agreement of the user (else 404), for its PDF.

    One query: the version without its frozen text, its agreement with the
    parties' names (the file's name) and its trail's newest entry (its
    ``audit_length`` and ``audit_head``: the download's entry goes in after
    it), none if the user is not a party.
    """
    user = request.user
    versions = (
        AgreementVersion.objects.filter(
            Q(agreement__mentor=user) | Q(agreement__mentee=user),
            agreement__uuid=agreement_id,
            number=number,
            status__in=AgreementVersion.SIGNED,
        )
        .select_related("agreement__mentor", "agreement__mentee", "agreement__program")
        .only(
            "number",
            "status",
            "pdf",
            "pdf_sha256",
            "sealed_at",
            "agreement__uuid",
            "agreement__audit_head",
            "agreement__audit_length",
            "agreement__mentor__full_name",
            "agreement__mentee__full_name",
            "agreement__program__sign_on_required",
        )
    )
    version = get_object_or_404(versions)
    _require_sign_on(request, version.agreement.program)
    return version


def sharing_agreement_for(request, agreement_id):
    """The agreement if the user is one of its two parties, else 404; with what
    the sharing page and its moves read: the parties, the program and the
    sharing consents (not its content)."""
    agreement = agreement_for(request, agreement_id, working_copy=False)
    prefetch_related_objects([agreement], "mentor", "mentee", "program", "sharing_consents")
    return agreement


# What allauth asks for at sign-in: recovery codes alone are no second step.
SECOND_FACTORS = [Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]


def program_for(request, program_id):
    """The program if the user administers it, else 404; nothing preloaded.

    If the program asks its admins for a second factor and the user has none
    (an authenticator app or a passkey), the page is not shown: the user is
    sent to the two-factor settings to add one (one more query, only then).
    """
    program = get_object_or_404(Program.objects.administered_by(request.user), uuid=program_id)
    # After the 404: whether a program asks for a second factor is its admins' business.
    if program.admins_need_second_factor and not is_mfa_enabled(request.user, SECOND_FACTORS):
        messages.info(
            request,
            _(
                "This program asks its admins to log in with a second factor. Add an "
                "authenticator app or a passkey to open its pages."
            ),
        )
        raise ImmediateHttpResponse(redirect("mfa_index"))
    _require_sign_on(request, program)
    return program


def _require_sign_on(request, program):
    """After the 404: a member of a program that asks for single sign-on,
    in a session that did not log in with it, is shown the program's
    providers to log in with, then comes back here (``sign_on.allows``)."""
    if sign_on.allows(request, program):
        return
    # Back to this page after logging in; from a refused form, to the page
    # that showed it (an action answers only a POST).
    back = request.get_full_path()
    if request.method != "GET":
        referer = request.headers.get("referer", "")
        parts = urlsplit(referer)
        here = url_has_allowed_host_and_scheme(referer, {request.get_host()}, request.is_secure())
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        back = path if here and path.startswith("/") and not path.startswith("//") else "/"
    response = render(
        request,
        "socialaccount/sign_on_required.html",
        {
            "back": back,
            "program": program,
            "providers": sign_on.buttons_for(request, program),
        },
        status=403,
    )
    raise ImmediateHttpResponse(response)


def pairing_for(request, program_id, agreement_id):
    """An agreement of a program the user administers, else 404.

    Metadata only: the program, the parties, the term and who gave notice;
    never the content, which an admin reads only where both parties share it.
    """
    program = program_for(request, program_id)
    agreements = Agreement.objects.filter(program=program).select_related(
        "program", "mentor", "mentee", "term", "notice_given_by"
    )
    return get_object_or_404(agreements, uuid=agreement_id)


def detail_url(agreement, kind=None):
    """The agreement's page, at the card of section ``kind`` if given."""
    url = reverse("agreements:detail", args=[agreement.uuid])
    return f"{url}#section-{kind}" if kind else url


def attempt(request, move, *, done, back, unchanged=None, refused=None, reraise=()):
    """Make the move, say what happened, and go back to ``back`` either way.

    When ``back`` points into a page (``…#section-goals``), the message is
    shown there, next to what the person acted on. The other arguments are
    those of ``moved``.
    """
    moved(
        request,
        move,
        done=done,
        unchanged=unchanged,
        refused=refused,
        reraise=reraise,
        at=urlsplit(back).fragment,
    )
    return redirect(back)


def moved(request, move, *, done, unchanged=None, refused=None, reraise=(), at=""):
    """Make the move and say what happened; True if it was made.

    ``move`` takes no arguments. On success ``done`` is shown as a success
    message: a text, or a function of what the move returned that gives one.
    A move that returns a false value when there was nothing to do says
    ``unchanged`` instead, as information, if it is given.

    A refusal (an ``AgreementError``) changed nothing: its message is shown as
    an error, or handed to ``refused`` (for example to put it on a form shown
    again). Refusals of the classes in ``reraise`` are raised for the view to
    handle itself. ``at`` names the element of the next page the message is
    about (base.html and app.js put it there).
    """
    try:
        result = move()
    except AgreementError as exc:
        if isinstance(exc, reraise):
            raise
        if refused is None:
            messages.error(request, exc.message, extra_tags=at)
        else:
            refused(exc.message)
        return False
    if unchanged is not None and not result:
        messages.info(request, unchanged, extra_tags=at)
    else:
        messages.success(request, done(result) if callable(done) else done, extra_tags=at)
    return True
