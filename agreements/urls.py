from django.urls import include, path, register_converter

from agreements.models import Section, SurveyResponse
from agreements.models.sharing import SHAREABLE_KINDS, SharingConsent
from agreements.views import (
    accounts,
    agreements,
    calendar,
    checkins,
    ending,
    imports,
    meetings,
    outcomes,
    program_settings,
    programs,
    sections,
    sent_emails,
    sharing,
    surveys,
    versions,
)


class SectionKindConverter:
    regex = "|".join(Section.Kind.values)

    def to_python(self, value):
        return value

    def to_url(self, value):
        return str(value)


register_converter(SectionKindConverter, "section")


class ShareableKindConverter(SectionKindConverter):
    regex = "|".join(SHAREABLE_KINDS)


register_converter(ShareableKindConverter, "shareable")


class SurveyMomentConverter(SectionKindConverter):
    regex = "|".join(SurveyResponse.Moment.values)


register_converter(SurveyMomentConverter, "survey_moment")


class FeedTokenConverter:
    """secrets.token_urlsafe's alphabet: anything else (a NUL byte, which
    PostgreSQL refuses in a query) is a 404 without asking the database."""

    regex = "[A-Za-z0-9_-]+"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return str(value)


register_converter(FeedTokenConverter, "feed_token")

app_name = "agreements"

agreement_urls = [
    path("", agreements.detail, name="detail"),
    path("sections/<section:kind>/edit/", sections.section_edit, name="section_edit"),
    path("sections/<section:kind>/agree/", sections.section_agree, name="section_agree"),
    path("sections/<section:kind>/history/", sections.section_history, name="section_history"),
    path(
        "sections/<section:kind>/discussion/",
        sections.section_discussion,
        name="section_discussion",
    ),
    path(
        "sections/<section:kind>/proposals/<int:number>/",
        sections.section_proposal,
        name="section_proposal",
    ),
    path(
        "sections/<section:kind>/proposals/<int:number>/accept/",
        sections.proposal_accept,
        name="proposal_accept",
    ),
    path(
        "sections/<section:kind>/proposals/<int:number>/decline/",
        sections.proposal_decline,
        name="proposal_decline",
    ),
    path(
        "sections/<section:kind>/proposals/<int:number>/withdraw/",
        sections.proposal_withdraw,
        name="proposal_withdraw",
    ),
    path("sign/", agreements.sign, name="sign"),
    path("pdf/", agreements.pdf, name="pdf"),
    path("amend/", versions.amend, name="amend"),
    path("amend/withdraw/", versions.withdraw_amendment, name="withdraw_amendment"),
    path("versions/", versions.version_list, name="version_list"),
    path("versions/compare/", versions.version_compare, name="version_compare"),
    path("versions/<int:number>/", versions.version_detail, name="version_detail"),
    path("versions/<int:number>/pdf/", versions.version_pdf, name="version_pdf"),
    path("trail/", versions.trail, name="trail"),
    path("checkins/", checkins.checkins, name="checkins"),
    path("checkins/<str:date>/record/", checkins.checkin_record, name="checkin_record"),
    path("checkins/<str:date>/answer/", checkins.checkin_answer, name="checkin_answer"),
    path("meetings/", meetings.meetings, name="meetings"),
    path("meetings/<int:number>/confirm/", meetings.meeting_confirm, name="meeting_confirm"),
    path("meetings/<int:number>/decline/", meetings.meeting_decline, name="meeting_decline"),
    path("meetings/<int:number>/correct/", meetings.meeting_correct, name="meeting_correct"),
    path("meetings/pause/", meetings.meetings_pause, name="meetings_pause"),
    path("meetings/resume/", meetings.meetings_resume, name="meetings_resume"),
    path("survey/<survey_moment:moment>/", surveys.survey, name="survey"),
    path("off-limits/add/", sections.off_limits_add, name="off_limits_add"),
    path("exit/", ending.exit_agreement, name="exit"),
    path("closing-note/", ending.closing_note, name="closing_note"),
    path("calendar.ics", calendar.agreement_ics, name="calendar_ics"),
    path("sharing/", sharing.sharing, name="sharing"),
    path("sharing/<shareable:kind>/share/", sharing.share, name="sharing_share"),
    path("sharing/<shareable:kind>/withdraw/", sharing.withdraw, name="sharing_withdraw"),
    path(
        "sharing/<shareable:kind>/discussion/share/",
        sharing.share,
        {"scope": SharingConsent.Scope.DISCUSSION},
        name="sharing_share_discussion",
    ),
    path(
        "sharing/<shareable:kind>/discussion/withdraw/",
        sharing.withdraw,
        {"scope": SharingConsent.Scope.DISCUSSION},
        name="sharing_withdraw_discussion",
    ),
]

pairing_urls = [
    path("", programs.pairing_detail, name="pairing"),
    path("remind/", programs.pairing_remind, name="pairing_remind"),
    path("end/", programs.pairing_end, name="pairing_end"),
    path("repair/", programs.pairing_repair, name="pairing_repair"),
]

program_urls = [
    path("", programs.detail, name="program"),
    path("pairings.csv", programs.export, name="program_export"),
    path("outcomes/", outcomes.outcomes_page, name="program_outcomes"),
    path("outcomes/<slug:chart>.csv", outcomes.outcomes_csv, name="program_outcomes_csv"),
    path("settings/", program_settings.edit, name="program_settings"),
    path("pairings/new/", programs.pairing_new, name="pairing_new"),
    path("pairings/import/", imports.pairing_import, name="pairing_import"),
    path("pairings/<uuid:agreement_id>/", include(pairing_urls)),
]

urlpatterns = [
    path("", agreements.home, name="home"),
    path("account/", accounts.account, name="account"),
    path("calendar/", calendar.calendar_page, name="calendar"),
    path("calendar/regenerate/", calendar.calendar_regenerate, name="calendar_regenerate"),
    path("calendar/feed/<feed_token:token>.ics", calendar.calendar_feed, name="calendar_feed"),
    path("agreements/<uuid:agreement_id>/", include(agreement_urls)),
    path("programs/", programs.program_list, name="program_list"),
    path("programs/<uuid:program_id>/", include(program_urls)),
    # Superusers only: the emails the file backend wrote (the demo's inbox).
    path("emails/", sent_emails.sent_emails, name="sent_emails"),
]
