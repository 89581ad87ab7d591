import datetime
import pathlib

from agreements import demo
from agreements.models import Agreement
from agreements.pdf import render_agreement_pdf
from pypdf import PdfReader
import io

ART = pathlib.Path("/work/main/test-artifacts")


def load(a):
    return Agreement.objects.with_content().get(pk=a.pk)


def test_scratch(agreement, mentor, mentee):
    start = datetime.date(2026, 3, 2)
    demo.write_all(agreement, by=mentor, start=start)
    a = load(agreement)

    def fill():
        for i in range(25):
            a.goals.create(owner="mentee", description=f"Goal {i} " + "word " * 30, success_measure="x " * 20, target_date=start)
        c = a.confidentiality
        c.work_matters = "مرحبا بالعالم. שלום עולם. 你好世界 日本語 한국어. Zoë Ångström façade naïve 🎉😀 " + "A" * 2000
        c.personal_matters = "x" * 100_000
        c.save()
    a.save_section("goals", by=mentor, expected_version=a.sections_by_kind["goals"].version, save=fill)
    pdf = render_agreement_pdf(load(agreement))
    (ART / "draft.pdf").write_bytes(pdf)
    r = PdfReader(io.BytesIO(pdf))
    print(len(r.pages))
    for p in r.pages[:3]:
        print(p.extract_text()[:3000])
        print("=====")
