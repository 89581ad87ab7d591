"""Every email the app sends, one function each, rendered from
``templates/emails/<name>.txt`` and ``<name>_subject.txt``.

A move promises an email (``Effect.objects.promise_email``); the task worker
calls the function of that name with the recipient and the ids the move
gave, so each email reads what is true when it is sent. Emails leave the
app: names, the program, dates and links only, never what the pair wrote.
Each is in its recipient's language (``User.own_language``).
"""

import datetime
import functools

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMessage
from django.db.models import Prefetch, prefetch_related_objects
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext_noop

from agreements import digests
from agreements.invitations import invitation_path
from agreements.models import (
    Agreement,
    AgreementVersion,
    Meeting,
    Reminder,
    Section,
    SurveyResponse,
)
from agreements.outcomes import min_respondents
from agreements.templatetags.agreement_tags import mid_sentence


def make_message(name, to, context):
    context = {**context, "user": to}
    subject = render_to_string(f"emails/{name}_subject.txt", context)
    body = render_to_string(f"emails/{name}.txt", context)
    return EmailMessage(" ".join(subject.split()), body, settings.DEFAULT_FROM_EMAIL, [to.email])


def _send(name, to, context):
    make_message(name, to, context).send()


def _link(name, *args):
    return settings.SITE_URL + reverse(name, args=args)


def _agreement(agreement_id, *related):
    return Agreement.objects.select_related("mentor", "mentee", "program", *related).get(
        pk=agreement_id
    )


def _about(agreement, to):
    """What every email about an agreement knows: the other party and the page."""
    return {
        "agreement": agreement,
        "other": agreement.other_person(to),
        "url": _link("agreements:detail", agreement.uuid),
    }


def _sign_in_or_invitation(agreement, to):
    """Someone who never chose a password gets an invitation link (which lets
    them choose one, once); everyone else the agreement's page."""
    if to.has_usable_password():
        return {"url": _link("agreements:detail", agreement.uuid)}
    return {
        "invited": True,
        "days": settings.INVITATION_TIMEOUT_DAYS,
        "url": settings.SITE_URL + invitation_path(to),
    }


# The emails ------------------------------------------------------------------


def pairing_created(to, *, agreement_id):
    """A program paired two people; someone without a password is invited."""
    agreement = _agreement(agreement_id)
    context = {**_about(agreement, to), **_sign_in_or_invitation(agreement, to)}
    context["role"] = mid_sentence(agreement.party_of(to).label)
    context["other_role"] = mid_sentence(agreement.party_of(context["other"]).label)
    _send("invitation" if context.get("invited") else "pairing_created", to, context)


def agreement_signed(to, *, version_id):
    """Both signed and the PDF is sealed: it is ready to download."""
    version = AgreementVersion.objects.get(pk=version_id)
    agreement = _agreement(version.agreement_id)
    _send("agreement_signed", to, {**_about(agreement, to), "version": version})


def agreement_ended(to, *, agreement_id):
    """The end, however it came; one that was in force invites the end-of-term
    survey too (open for a while after the end), unless it was answered."""
    agreement = _agreement(agreement_id, "notice_given_by")
    context = _about(agreement, to)
    # Who answered what survey; never their answers.
    answers = SurveyResponse.objects.only("agreement_id", "party", "moment")
    prefetch_related_objects([agreement], "versions", Prefetch("survey_responses", answers))
    moment = SurveyResponse.Moment.END
    if agreement.survey_is_open(moment, to.today()) and not agreement.survey_answer_of(to, moment):
        context["survey_url"] = _link("agreements:survey", agreement.uuid, moment)
    _send("agreement_ended", to, context)


def program_reminder(to, *, agreement_id):
    """A program admin's nudge: what waits for this person, never content.
    Someone who has not accepted their invitation gets a new link."""
    agreement = Agreement.objects.with_working_copy().with_records().get(pk=agreement_id)
    context = {**_about(agreement, to), **_sign_in_or_invitation(agreement, to)}
    _send("program_reminder", to, {**context, "todo": agreement.todo_for(to)})


def _other_party_did(name, to, agreement, actor_id, **extra):
    actor = agreement.mentor if actor_id == agreement.mentor_id else agreement.mentee
    _send(name, to, {**_about(agreement, to), "actor": actor, **extra})


def off_limits_added(to, *, agreement_id, actor_id):
    _other_party_did("off_limits_added", to, _agreement(agreement_id), actor_id)


def notice_given(to, *, agreement_id, actor_id):
    _other_party_did("notice_given", to, _agreement(agreement_id), actor_id)


def _sharing(name, to, agreement_id, actor_id, section, discussion):
    """About a section, or its discussion if ``discussion``: shared now or not."""
    agreement = _agreement(agreement_id)
    prefetch_related_objects([agreement], "sharing_consents")
    shared = agreement.shared_discussions() if discussion else agreement.shared_kinds()
    _other_party_did(
        name,
        to,
        agreement,
        actor_id,
        section=Section.Kind(section).label,
        discussion=discussion,
        shared=section in shared,
        sharing_url=_link("agreements:sharing", agreement.uuid),
    )


def sharing_consented(to, *, agreement_id, actor_id, section, discussion=False):
    _sharing("sharing_consented", to, agreement_id, actor_id, section, discussion)


def sharing_withdrawn(to, *, agreement_id, actor_id, section, discussion=False):
    _sharing("sharing_withdrawn", to, agreement_id, actor_id, section, discussion)


# The meeting log and pauses: dates, minutes and how, never a note (the
# notes are not even loaded). Each links to the pair's meetings page.


def meeting_logged(to, *, agreement_id, actor_id, meeting_id):
    """The other party logged a meeting, or corrected one: the recipient
    confirms it, corrects it or says it did not happen."""
    agreement = _agreement(agreement_id)
    meeting = agreement.meetings.defer("mentor_note", "mentee_note").get(pk=meeting_id)
    if meeting.status != Meeting.Status.PENDING or meeting.awaits != agreement.party_of(to):
        # Answered, withdrawn or corrected in the app between the move and
        # now: it asks nothing of the recipient any more.
        return
    _other_party_did(
        "meeting_logged",
        to,
        agreement,
        actor_id,
        meeting=meeting,
        objection_days=settings.MEETING_OBJECTION_DAYS,
        url=_link("agreements:meetings", agreement.uuid),
    )


def meeting_declined(to, *, agreement_id, actor_id, meeting_id):
    """The other party said the meeting the recipient logged did not happen."""
    agreement = _agreement(agreement_id)
    meeting = agreement.meetings.defer("mentor_note", "mentee_note").get(pk=meeting_id)
    _other_party_did(
        "meeting_declined",
        to,
        agreement,
        actor_id,
        meeting=meeting,
        url=_link("agreements:meetings", agreement.uuid),
    )


def _pause_news(name, to, agreement_id, actor_id, pause_id):
    agreement = _agreement(agreement_id)
    pause = agreement.pauses.defer("note").get(pk=pause_id)
    _other_party_did(
        name,
        to,
        agreement,
        actor_id,
        pause=pause,
        url=_link("agreements:meetings", agreement.uuid),
    )


def meetings_paused(to, *, agreement_id, actor_id, pause_id):
    _pause_news("meetings_paused", to, agreement_id, actor_id, pause_id)


def meetings_resumed(to, *, agreement_id, actor_id, pause_id):
    """The pause ended early (its last day is now the day before), or was
    called off before it began."""
    _pause_news("meetings_resumed", to, agreement_id, actor_id, pause_id)


# What happened in the pair's discussions: the other party, the section and a
# link, never what was written. Either at once or in a daily digest, as the
# recipient chose (User.discussion_emails).

DISCUSSION_MOVES = {
    "section_commented": "commented",
    "proposal_made": "proposed",
    "proposal_countered": "countered",
    "proposal_accepted": "accepted",
    "proposal_declined": "declined",
}


def discussion_move(to, *, agreement_id, actor_id, event_id):
    """The other party commented on a section, proposed a change to it, or
    answered the recipient's proposal: what and where, with the link."""
    agreement = _agreement(agreement_id)
    event = agreement.audit_events.get(pk=event_id)
    kind, proposal = event.details["section"], event.details.get("proposal")
    if event.kind == "section_commented":
        url = _link("agreements:section_discussion", agreement.uuid, kind)
    else:
        url = _link("agreements:section_proposal", agreement.uuid, kind, proposal)
    _other_party_did(
        "discussion_move",
        to,
        agreement,
        actor_id,
        what=DISCUSSION_MOVES[event.kind],
        section=Section.Kind(kind).label,
        url=url,
        settings_url=_link("agreements:account"),
    )


def discussion_digest(to, *, reminder_id):
    """The day's digest of an agreement's discussions: how many comments per
    section, the proposals waiting for an answer, the answers, with links."""
    reminder = Reminder.objects.get(pk=reminder_id)
    agreement = _agreement(reminder.agreement_id)
    news = digests.news_of(reminder, agreement, to)
    if not news:
        # Answered in the app between the cron's claim and now.
        return

    def page(name, kind, *number):
        return _link(f"agreements:{name}", agreement.uuid, kind, *number)

    label = {kind: Section.Kind(kind).label for kind in Section.Kind.values}
    context = {
        **_about(agreement, to),
        "comments": [
            (label[kind], count, page("section_discussion", kind))
            for kind, count in news.comments.items()
        ],
        "proposed": [
            (label[kind], page("section_proposal", kind, number)) for kind, number in news.proposed
        ],
        "answered": [
            (label[kind], status, page("section_proposal", kind, number))
            for kind, number, status in news.answered
        ],
        "settings_url": _link("agreements:account"),
    }
    _send("discussion_digest", to, context)


REMINDER_TEMPLATES = {
    Reminder.Kind.CHECKIN_SOON: ("reminder_checkin_soon", "agreements:checkins"),
    Reminder.Kind.CHECKIN_OVERDUE: ("reminder_checkin_overdue", "agreements:checkins"),
    Reminder.Kind.EXIT_SOON: ("reminder_exit_soon", "agreements:detail"),
    Reminder.Kind.MEETING_LOG: ("reminder_meeting_log", "agreements:meetings"),
    # The survey's page takes the moment after the agreement.
    Reminder.Kind.SURVEY_MIDPOINT: (
        "reminder_survey_mid",
        "agreements:survey",
        SurveyResponse.Moment.MIDPOINT,
    ),
    Reminder.Kind.SURVEY_END: (
        "reminder_survey_end",
        "agreements:survey",
        SurveyResponse.Moment.END,
    ),
}


def reminder(to, *, reminder_id, today):
    """A check-in coming up or overdue, the exit date coming up, a planned
    meeting nobody logged, or a survey open for the recipient, as of
    ``today`` (the recipient's date when it was due)."""
    reminder = Reminder.objects.select_related("agreement__program").get(pk=reminder_id)
    agreement = _agreement(reminder.agreement_id)
    name, url_name, *url_args = REMINDER_TEMPLATES[reminder.kind]
    context = {
        **_about(agreement, to),
        "program": agreement.program.name,
        "date": reminder.about,
        "days": (reminder.about - datetime.date.fromisoformat(today)).days,
        "ending": agreement.is_ending,
        "url": _link(url_name, agreement.uuid, *url_args),
        # What the program sees of a survey: sums over at least this many people.
        "min_respondents": min_respondents(),
    }
    _send(name, to, context)


def password_reset(to):
    """Django's password reset, sent by the worker so a mail server that is
    down for a while delays the email instead of losing it. The link is made
    when the email is sent: it works once and expires like Django's."""
    uid = urlsafe_base64_encode(force_bytes(to.pk))
    token = default_token_generator.make_token(to)
    url = settings.SITE_URL + reverse("password_reset_confirm", args=[uid, token])
    _send("password_reset", to, {"url": url})


# What changed in how someone logs in, by allauth's name for the notice.
SECURITY_CHANGES = {
    "totp_activated": gettext_noop("An authenticator app was added to your account."),
    "totp_deactivated": gettext_noop("The authenticator app was removed from your account."),
    "recovery_codes_generated": gettext_noop(
        "New recovery codes were made for your account: the earlier ones no longer work."
    ),
    "webauthn_added": gettext_noop("A passkey was added to your account."),
    "webauthn_removed": gettext_noop("A passkey was removed from your account."),
    "account_connected": gettext_noop(
        "Your account can now be logged into with your organisation's single sign-on."
    ),
}


def security_notice(to, *, change):
    """A change to how ``to`` logs in, so that someone who did not make it
    knows at once (``AccountAdapter.send_notification_mail``)."""
    url = settings.SITE_URL + reverse("password_reset")
    _send("security_notice", to, {"change": SECURITY_CHANGES[change], "reset_url": url})


def _in_their_language(send):
    # The worker has no request to take a language from: the recipient's own
    # (User.own_language), for the subject, the body and the words in them.
    @functools.wraps(send)
    def in_their_language(to, **ids):
        with translation.override(to.own_language):
            send(to, **ids)

    return in_their_language


# What the worker may send, by name: everything above.
EMAILS = {
    function.__name__: _in_their_language(function)
    for function in [
        pairing_created,
        agreement_signed,
        agreement_ended,
        program_reminder,
        off_limits_added,
        notice_given,
        sharing_consented,
        sharing_withdrawn,
        meeting_logged,
        meeting_declined,
        meetings_paused,
        meetings_resumed,
        discussion_move,
        discussion_digest,
        reminder,
        password_reset,
        security_notice,
    ]
}
