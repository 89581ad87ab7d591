"""The program's Outcomes page and its CSVs: the figures of a known program,
the range of months, surveys shown only over enough people and whole closed
quarters, no private text, a constant number of queries, and who may look."""

import csv
import datetime
import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from agreements import outcomes
from agreements.models import Agreement, MonthlyOutcome, SurveyResponse, User
from agreements.outcomes import midnight, quarter_of, shift_month
from tests.helpers import client_for, make_active

Status = Agreement.Status
CANARY = "CANARY-survey-comment-8d41"


@pytest.fixture
def admin_client(client, program_admin):
    return client_for(client, program_admin)


def page_url(program):
    return reverse("agreements:program_outcomes", args=[program.uuid])


def csv_url(program, chart):
    return reverse("agreements:program_outcomes_csv", args=[program.uuid, chart])


def read_csv(client, program, chart, **params):
    response = client.get(csv_url(program, chart), params)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.content.decode())))


def chart_of(response, key):
    return response.context["charts"][key]


def at(year, month, day, hour=12):
    return midnight(datetime.date(year, month, day)) + datetime.timedelta(hours=hour)


def bulk_pairings(program, admin, count, *, prefix="p", **fields):
    """``count`` pairings of new people, inserted in bulk (no moves, no
    content): the rows the Outcomes page reads."""
    users = User.objects.bulk_create(
        User(email=f"{prefix}{n}@example.com", full_name=f"Person {prefix}{n}")
        for n in range(2 * count)
    )
    return Agreement.objects.bulk_create(
        Agreement(
            program=program,
            mentor=users[2 * n],
            mentee=users[2 * n + 1],
            created_by=admin,
            **fields,
        )
        for n in range(count)
    )


def answer(agreement, party, moment, when, satisfaction=4, growth=4, recommend=8, comment=""):
    return SurveyResponse(
        agreement=agreement,
        program_id=agreement.program_id,
        party=party,
        moment=moment,
        satisfaction=satisfaction,
        growth=growth,
        recommend=recommend,
        comment=comment,
        answered_at=when,
    )


def last_quarter():
    """The first day of the quarter before the current one: over, and in
    the default range of the last 12 months."""
    return shift_month(quarter_of(timezone.localdate()), -3)


def answers_by(program, admin, people, *, when, moment="end", **values):
    """Survey answers of ``people`` different people at ``when``, each with
    the values given (a list per question, one per person)."""
    agreements = bulk_pairings(program, admin, (people + 1) // 2, prefix=f"s{when:%m%d%H}")
    SurveyResponse.objects.bulk_create(
        answer(
            agreements[n // 2],
            "mentor" if n % 2 == 0 else "mentee",
            moment,
            when,
            **{name: answers[n] for name, answers in values.items()},
        )
        for n in range(people)
    )
    return agreements


# The figures of a known program ---------------------------------------------------


@pytest.fixture
def known(program, program_admin, other_program, other_admin):
    """January to March 2024: A signed in January, B signed in February and
    ended in March, C still a draft; D signed after the range; and the
    months they held, one of them outside the range."""
    a, b, c, d = bulk_pairings(program, program_admin, 4)
    rows = {
        a: {
            "created_at": at(2023, 12, 20),
            "activated_at": at(2024, 1, 10),
            "status": Status.ACTIVE,
            "goals_total": 4,
            "goals_achieved": 1,
        },
        b: {
            "created_at": at(2024, 1, 5),
            "activated_at": at(2024, 2, 7),
            "ended_at": at(2024, 3, 15),
            "end_reason": Agreement.EndReason.COMPLETED,
            "status": Status.ENDED,
            "goals_total": 2,
            "goals_achieved": 2,
        },
        c: {"created_at": at(2024, 2, 10)},
        d: {
            "created_at": at(2024, 4, 1),
            "activated_at": at(2024, 5, 2),
            "status": Status.ACTIVE,
            "goals_total": 10,
            "goals_achieved": 10,
        },
    }
    for agreement, fields in rows.items():
        if "activated_at" in fields:
            fields["signed_after"] = fields["activated_at"] - fields["created_at"]
        Agreement.objects.filter(pk=agreement.pk).update(**fields)

    def month(agreement, first, **counts):
        return MonthlyOutcome(
            agreement=agreement, program_id=agreement.program_id, month=first, **counts
        )

    elsewhere = bulk_pairings(other_program, other_admin, 1, prefix="x")[0]
    MonthlyOutcome.objects.bulk_create(
        [
            month(
                a,
                datetime.date(2024, 1, 1),
                meetings_promised=3,
                meetings_held=2,
                checkins_on_time=1,
            ),
            # More meetings than agreed: they make up for no one else's.
            month(
                a, datetime.date(2024, 2, 1), meetings_promised=4, meetings_held=5, checkins_late=1
            ),
            month(a, datetime.date(2024, 3, 1), meetings_promised=4, meetings_held=1),
            month(b, datetime.date(2024, 2, 1), meetings_promised=2, meetings_held=0),
            month(
                b,
                datetime.date(2024, 3, 1),
                meetings_promised=2,
                meetings_held=2,
                checkins_on_time=1,
                checkins_missed=1,
            ),
            # A rhythm in the pair's own words: meetings held, none promised.
            month(c, datetime.date(2024, 3, 1), meetings_held=3),
            month(d, datetime.date(2024, 4, 1), meetings_promised=9, checkins_missed=9),
            month(elsewhere, datetime.date(2024, 2, 1), meetings_promised=7, checkins_missed=7),
        ]
    )
    return {"a": a, "b": b, "c": c, "d": d}


RANGE = {"from": "2024-01", "to": "2024-03"}


def test_the_figures_of_a_known_program(admin_client, program, known):
    assert read_csv(admin_client, program, "statuses", **RANGE) == [
        ["month", "active", "not_yet_in_force", "ended"],
        ["2024-01", "1", "1", "0"],
        ["2024-02", "2", "1", "0"],
        ["2024-03", "1", "1", "1"],
    ]
    assert read_csv(admin_client, program, "signing", **RANGE) == [
        ["month", "agreements_signed", "median_days_to_sign"],
        ["2024-01", "1", "21.0"],
        ["2024-02", "1", "33.0"],
        ["2024-03", "0", ""],
    ]
    assert read_csv(admin_client, program, "meetings", **RANGE) == [
        [
            "month",
            "meetings_agreed",
            "held_of_agreed",
            "share_held_percent",
            "all_meetings_held",
        ],
        ["2024-01", "3", "2", "66.7", "2"],
        ["2024-02", "6", "4", "66.7", "5"],
        ["2024-03", "6", "3", "50.0", "6"],
    ]
    assert read_csv(admin_client, program, "checkins", **RANGE) == [
        ["month", "on_time", "late", "missed"],
        ["2024-01", "1", "0", "0"],
        ["2024-02", "0", "1", "0"],
        ["2024-03", "1", "0", "1"],
    ]
    assert read_csv(admin_client, program, "goals", **RANGE) == [
        ["goals", "achieved", "share_achieved_percent"],
        ["6", "3", "50.0"],
    ]

    response = admin_client.get(page_url(program), RANGE)
    assert response.status_code == 200
    assert chart_of(response, "statuses").sentence == (
        "At the end of March 2024: 1 active, 1 not yet in force, 1 ended."
    )
    assert chart_of(response, "signing").sentence == (
        "2 agreements signed in this range, a median of 27.0 days after pairing."
    )
    assert chart_of(response, "meetings").sentence == (
        "60% of the agreed meetings were held in this range: 9 of 15."
    )
    assert chart_of(response, "checkins").sentence == (
        "50% of the check-ins due in this range were held on time: 2 of 4 (1 late, 1 missed)."
    )
    assert chart_of(response, "goals").sentence == (
        "3 of 6 goals achieved (50%), in the agreements in force during this range."
    )
    text = response.text
    for chart in response.context["charts"].values():
        assert escape(chart.sentence) in text
        assert csv_url(program, chart.key) in text
    # Every chart is an image with a text alternative, and a table.
    assert text.count('role="img"') == 6
    assert text.count("<figcaption") == 6
    assert text.count("Show as a table") == 6


def test_the_charts_draw_each_month(admin_client, program, known):
    response = admin_client.get(page_url(program), RANGE)
    statuses = chart_of(response, "statuses").drawing
    assert [column.name for column in statuses.columns] == ["Jan", "Feb", "Mar"]
    assert [column.year for column in statuses.columns] == ["2024", "", ""]
    # Stacked: active, not yet in force, ended; their totals above them.
    assert [[s.css for s in column.segments] for column in statuses.columns] == [
        ["bar-active", "bar-waiting"],
        ["bar-active", "bar-waiting"],
        ["bar-active", "bar-waiting", "bar-ended"],
    ]
    assert [column.value for column in statuses.columns] == ["2", "3", "3"]
    meetings = chart_of(response, "meetings").drawing
    assert [column.value for column in meetings.columns] == ["67%", "67%", "50%"]
    heights = [column.segments[0].height for column in meetings.columns]
    assert heights[0] == pytest.approx(heights[1])
    assert heights[2] == pytest.approx(heights[0] * 50 / (200 / 3))
    assert chart_of(response, "goals").share == pytest.approx(50)


def test_an_empty_program_says_so(admin_client, program):
    response = admin_client.get(page_url(program))
    assert response.status_code == 200
    assert "No agreement was signed in this range." in response.text
    assert "No agreed meeting fell in this range." in response.text
    assert "No check-in fell due in this range." in response.text
    assert "No agreement in force during this range has goals yet." in response.text
    assert response.context["fading"] == 0


# The range of months --------------------------------------------------------------


def test_the_default_range_is_the_last_twelve_months(admin_client, program):
    response = admin_client.get(page_url(program))
    period = response.context["period"]
    this_month = timezone.localdate().replace(day=1)
    assert (period.first, period.last) == (shift_month(this_month, -11), this_month)
    assert len(chart_of(response, "statuses").drawing.columns) == 12
    assert period.error == ""


def test_a_range_of_one_month_given_from_its_start(admin_client, program):
    this_month = timezone.localdate().replace(day=1)
    response = admin_client.get(page_url(program), {"from": f"{this_month:%Y-%m}"})
    period = response.context["period"]
    assert (period.first, period.last) == (this_month, this_month)
    assert "(so far)" in response.text


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"from": "2024-13"}, "Write each month as YYYY-MM"),
        ({"from": "March"}, "Write each month as YYYY-MM"),
        ({"to": "2024-1"}, "Write each month as YYYY-MM"),
        ({"from": "%00<script>"}, "Write each month as YYYY-MM"),
        ({"from": "1066-10"}, "Write each month as YYYY-MM"),
        ({"from": "٢٠٢٤-٠١"}, "Write each month as YYYY-MM"),
        ({"from": "2024-07", "to": "2024-05"}, "The range starts after it ends."),
        ({"to": "2999-01"}, "The range cannot end after this month."),
        ({"from": "2000-01", "to": "2020-01"}, "A range covers at most 60 months."),
    ],
)
def test_a_range_that_cannot_be_used_shows_the_default_and_says_why(
    admin_client, program, params, message
):
    response = admin_client.get(page_url(program), params)
    assert response.status_code == 200
    period = response.context["period"]
    this_month = timezone.localdate().replace(day=1)
    assert (period.first, period.last) == (shift_month(this_month, -11), this_month)
    assert message in period.error
    assert "Showing the last 12 months instead." in response.text
    assert 'id="range-error"' in response.text
    # The CSV falls back to the same range.
    rows = read_csv(admin_client, program, "statuses", **params)
    assert rows[1][0] == f"{shift_month(this_month, -11):%Y-%m}"
    assert len(rows) == 13


# Surveys: enough people, whole quarters that are over ------------------------------


def survey_cells(response):
    """{(quarter, survey): [people, satisfaction, growth, NPS]} as the page's table shows them."""
    return {(row[0], row[1]): row[2:] for row in chart_of(response, "surveys").table.rows}


def quarter_name(first):
    return f"Q{(first.month - 1) // 3 + 1} {first.year}"


def test_four_people_are_too_few_to_show(admin_client, program, program_admin):
    quarter = last_quarter()
    answers_by(
        program,
        program_admin,
        4,
        when=midnight(quarter) + datetime.timedelta(days=10),
        satisfaction=[1, 2, 3, 5],
        growth=[5, 4, 1, 2],
        recommend=[0, 3, 10, 8],
    )
    response = admin_client.get(page_url(program))
    cell = survey_cells(response)[(quarter_name(quarter), "End of the term")]
    assert cell == ["too few answers", "", "", ""]
    assert "too few answers" in response.text
    # Nothing of theirs: no average, no score, not even how many answered.
    surveys = chart_of(response, "surveys")
    assert all(not column.segments for column in surveys.drawing.columns)
    assert ">2.8<" not in response.text and ">-25<" not in response.text
    assert surveys.sentence.startswith("No survey has enough answers to show yet")
    rows = read_csv(admin_client, program, "surveys")
    assert rows[0] == [
        "quarter",
        "survey",
        "respondents",
        "satisfaction_average",
        "growth_average",
        "net_promoter_score",
    ]
    code = f"{quarter.year}-Q{(quarter.month - 1) // 3 + 1}"
    assert [code, "end", "<5", "", "", ""] in rows
    assert all(row[3:] == ["", "", ""] for row in rows[1:])


def test_five_answers_of_four_people_are_still_too_few(admin_client, program, program_admin):
    """Someone who answered in two pairings is one person."""
    quarter = last_quarter()
    when = midnight(quarter) + datetime.timedelta(days=10)
    agreements = answers_by(program, program_admin, 4, when=when)
    mentor = agreements[0].mentor
    again = bulk_pairings(program, program_admin, 1, prefix="again")[0]
    Agreement.objects.filter(pk=again.pk).update(mentor=mentor)
    again.refresh_from_db()
    answer(again, "mentor", "end", when).save()
    assert SurveyResponse.objects.filter(program=program).count() == 5
    response = admin_client.get(page_url(program))
    cell = survey_cells(response)[(quarter_name(quarter), "End of the term")]
    assert cell == ["too few answers", "", "", ""]


def test_five_people_show_their_averages_and_score(admin_client, program, program_admin):
    quarter = last_quarter()
    answers_by(
        program,
        program_admin,
        5,
        when=midnight(quarter) + datetime.timedelta(days=10),
        moment="midpoint",
        satisfaction=[1, 2, 3, 4, 5],
        growth=[5, 5, 4, 4, 2],
        recommend=[10, 9, 9, 8, 3],
    )
    response = admin_client.get(page_url(program))
    cells = survey_cells(response)
    # Three promoters and one detractor of five: (3 - 1) / 5 = +40.
    assert cells[(quarter_name(quarter), "Midpoint of the term")] == ["5", "3.0", "4.0", "+40"]
    assert cells[(quarter_name(quarter), "End of the term")] == ["too few answers", "", "", ""]
    assert chart_of(response, "surveys").sentence == (
        f"{quarter_name(quarter)}, midpoint of the term: a net promoter score of +40 and an "
        "average satisfaction of 3.0 out of 5, from 5 people."
    )
    column = chart_of(response, "surveys").drawing.columns[-1]
    assert [segment.css for segment in column.segments] == ["bar-midpoint"]
    code = f"{quarter.year}-Q{(quarter.month - 1) // 3 + 1}"
    rows = read_csv(admin_client, program, "surveys")
    assert [code, "midpoint", "5", "3.0", "4.0", "40"] in rows


def test_the_current_quarter_is_never_shown(admin_client, program, program_admin):
    now = timezone.now()
    answers_by(
        program,
        program_admin,
        6,
        when=now,
        satisfaction=[5] * 6,
        growth=[5] * 6,
        recommend=[10] * 6,
    )
    this_month = timezone.localdate().replace(day=1)
    response = admin_client.get(page_url(program), {"from": f"{this_month:%Y-%m}"})
    current = quarter_name(quarter_of(this_month))
    assert survey_cells(response) == {}
    assert current not in response.text
    assert chart_of(response, "surveys").drawing is None
    assert "No quarter of this range is over yet" in response.text
    assert read_csv(admin_client, program, "surveys", **{"from": f"{this_month:%Y-%m}"}) == [
        chart_of(response, "surveys").header
    ]
    # In the default range too: the quarters before show, not this one.
    response = admin_client.get(page_url(program))
    cells = survey_cells(response)
    assert cells and all(quarter != current for quarter, _survey in cells)
    assert all(cell[0] == "too few answers" for cell in cells.values())


def test_a_quarter_counts_whole_whatever_the_range(admin_client, program, program_admin):
    """A range starting mid-quarter shows the whole quarter: two ranges never
    differ by some of a quarter's answers."""
    quarter = last_quarter()
    answers_by(program, program_admin, 3, when=midnight(quarter) + datetime.timedelta(days=2))
    answers_by(program, program_admin, 3, when=midnight(shift_month(quarter, 2)))
    whole = admin_client.get(page_url(program), {"from": f"{quarter:%Y-%m}"})
    part = admin_client.get(page_url(program), {"from": f"{shift_month(quarter, 2):%Y-%m}"})
    key = (quarter_name(quarter), "End of the term")
    assert survey_cells(whole)[key] == survey_cells(part)[key] == ["6", "4.0", "4.0", "0"]


def test_survey_comments_never_reach_the_program(admin_client, program, program_admin):
    quarter = last_quarter()
    agreements = answers_by(
        program, program_admin, 6, when=midnight(quarter) + datetime.timedelta(days=5)
    )
    SurveyResponse.objects.filter(agreement__in=agreements).update(comment=CANARY)
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(page_url(program))
    assert CANARY not in response.text
    assert survey_cells(response)[(quarter_name(quarter), "End of the term")][0] == "6"
    # Not even loaded: no query selects the comment column.
    assert not any('"comment"' in query["sql"] for query in queries.captured_queries)
    for chart in outcomes.CHARTS:
        content = admin_client.get(csv_url(program, chart)).content.decode()
        assert CANARY not in content


# Fading pairs ---------------------------------------------------------------------


def test_fading_pairs_are_counted_and_filter_the_dashboard(
    admin_client, program, agreement, program_admin
):
    """A pair agreed to meet fortnightly for 70 days and logged no meeting:
    the daily run finds it fading."""
    fading = make_active(agreement, start=timezone.localdate() - datetime.timedelta(days=70))
    others = bulk_pairings(program, program_admin, 2, status=Status.DRAFT)
    call_command("end_agreements", verbosity=0)
    assert Agreement.objects.get(pk=fading.pk).fading

    response = admin_client.get(page_url(program))
    assert response.context["fading"] == 1
    dashboard = reverse("agreements:program", args=[program.uuid])
    assert f'href="{dashboard}?flag=fading"' in response.text

    response = admin_client.get(dashboard, {"flag": "fading"})
    assert [row["agreement"].pk for row in response.context["rows"]] == [fading.pk]
    counts = {flag["value"]: flag["count"] for flag in response.context["summary"]["flags"]}
    assert counts["fading"] == 1
    assert "Fading" in response.text
    # An ended pair is never fading, whatever its column says.
    Agreement.objects.filter(pk=others[0].pk).update(
        fading=True, status=Status.ENDED, ended_at=timezone.now(), end_reason="completed"
    )
    response = admin_client.get(dashboard, {"flag": "fading"})
    assert [row["agreement"].pk for row in response.context["rows"]] == [fading.pk]


# Cost ------------------------------------------------------------------------------


@pytest.mark.parametrize("pairings", [10, 1000])
def test_outcomes_queries_do_not_grow(
    admin_client, program, program_admin, pairings, django_assert_num_queries
):
    today = timezone.localdate()
    created = bulk_pairings(program, program_admin, pairings, created_at=timezone.now())
    half = [agreement.pk for agreement in created[::2]]
    signed = timezone.now() - datetime.timedelta(days=40)
    Agreement.objects.filter(pk__in=half).update(
        status=Status.ACTIVE,
        activated_at=signed,
        signed_after=datetime.timedelta(days=3),
        goals_total=3,
        goals_achieved=1,
        fading=True,
    )
    months = [shift_month(today.replace(day=1), -n) for n in range(3)]
    MonthlyOutcome.objects.bulk_create(
        MonthlyOutcome(
            agreement=agreement,
            program=program,
            month=month,
            meetings_promised=2,
            meetings_held=1,
            checkins_on_time=1,
        )
        for agreement in created
        for month in months
    )
    when = midnight(last_quarter()) + datetime.timedelta(days=3)
    SurveyResponse.objects.bulk_create(
        answer(agreement, party, "end", when, comment=CANARY)
        for agreement in created
        for party in ("mentor", "mentee")
    )
    # Session, user, program; the pairings' counts, the days to sign, the
    # months kept, the survey cells; and the menu's count of what waits.
    with django_assert_num_queries(8):
        response = admin_client.get(page_url(program))
    assert response.context["fading"] == pairings // 2
    assert chart_of(response, "goals").rows == [[3 * pairings // 2, pairings // 2, 33.3]]
    statuses = chart_of(response, "statuses").rows[-1]
    assert statuses[1:] == [pairings // 2, pairings // 2, 0]
    cells = survey_cells(response)
    assert cells[(quarter_name(last_quarter()), "End of the term")][0] == str(2 * pairings)


# Who may look -----------------------------------------------------------------------


@pytest.mark.parametrize("who", ["mentor", "mentee", "outsider", "other_admin"])
def test_outcomes_are_404_for_everyone_but_the_programs_admins(
    client, request, program, agreement, who
):
    client_for(client, request.getfixturevalue(who))
    assert client.get(page_url(program)).status_code == 404
    for chart in outcomes.CHARTS:
        assert client.get(csv_url(program, chart)).status_code == 404


def test_outcomes_ask_a_stranger_to_log_in(client, program):
    response = client.get(page_url(program))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_an_unknown_chart_is_404(admin_client, program):
    assert admin_client.get(csv_url(program, "comments")).status_code == 404


def test_the_dashboard_links_to_the_outcomes(admin_client, program):
    response = admin_client.get(reverse("agreements:program", args=[program.uuid]))
    assert page_url(program) in response.text
