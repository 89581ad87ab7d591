from django.urls import include, path, register_converter

from agreements.models import Section
from agreements.views import agreements, calendar, living, programs, versions


class SectionKindConverter:
    regex = "|".join(Section.Kind.values)

    def to_python(self, value):
        return value

    def to_url(self, value):
        return str(value)


register_converter(SectionKindConverter, "section")

app_name = "agreements"

agreement_urls = [
    path("", agreements.detail, name="detail"),
    path("sections/<section:kind>/edit/", agreements.section_edit, name="section_edit"),
    path("sections/<section:kind>/agree/", agreements.section_agree, name="section_agree"),
    path("sections/<section:kind>/history/", agreements.section_history, name="section_history"),
    path("sign/", agreements.sign, name="sign"),
    path("pdf/", agreements.pdf, name="pdf"),
    path("amend/", versions.amend, name="amend"),
    path("amend/withdraw/", versions.withdraw_amendment, name="withdraw_amendment"),
    path("versions/", versions.version_list, name="version_list"),
    path("versions/compare/", versions.version_compare, name="version_compare"),
    path("versions/<int:number>/", versions.version_detail, name="version_detail"),
    path("versions/<int:number>/pdf/", versions.version_pdf, name="version_pdf"),
    path("trail/", versions.trail, name="trail"),
    path("checkins/", living.checkins, name="checkins"),
    path("checkins/<str:date>/record/", living.checkin_record, name="checkin_record"),
    path("checkins/<str:date>/answer/", living.checkin_answer, name="checkin_answer"),
    path("off-limits/add/", living.off_limits_add, name="off_limits_add"),
    path("exit/", living.exit_agreement, name="exit"),
    path("closing-note/", living.closing_note, name="closing_note"),
    path("calendar.ics", calendar.agreement_ics, name="calendar_ics"),
]

program_urls = [
    path("", programs.detail, name="program"),
    path("pairings/new/", programs.pairing_new, name="pairing_new"),
]

urlpatterns = [
    path("", agreements.home, name="home"),
    path("account/", living.account, name="account"),
    path("calendar/", calendar.calendar_page, name="calendar"),
    path("calendar/regenerate/", calendar.calendar_regenerate, name="calendar_regenerate"),
    path("calendar/feed/<str:token>.ics", calendar.calendar_feed, name="calendar_feed"),
    path("agreements/<uuid:agreement_id>/", include(agreement_urls)),
    path("programs/<uuid:program_id>/", include(program_urls)),
]
