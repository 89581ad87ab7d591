from django.urls import include, path, register_converter

from agreements.models import Section
from agreements.views import agreements, programs


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
]

program_urls = [
    path("", programs.detail, name="program"),
    path("pairings/new/", programs.pairing_new, name="pairing_new"),
]

urlpatterns = [
    path("", agreements.home, name="home"),
    path("agreements/<uuid:agreement_id>/", include(agreement_urls)),
    path("programs/<uuid:program_id>/", include(program_urls)),
]
