import datetime
import html

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agreements.models import Agreement, User
from agreements.services import pairing_create, pairing_invite
from tests.helpers import client_for, make_user

HEADER = "mentor_email,mentor_name,mentee_email,mentee_name,start_date,exit_date\n"


@pytest.fixture
def admin_client(client, program_admin):
    return client_for(client, program_admin)


def import_url(program):
    return reverse("agreements:pairing_import", args=[program.uuid])


def check(client, program, content, name="pairings.csv"):
    if isinstance(content, str):
        content = content.encode()
    upload = SimpleUploadedFile(name, content, content_type="text/csv")
    return client.post(import_url(program), {"file": upload})


def confirm(client, program, text):
    return client.post(import_url(program), {"csv_text": text})


def page(response):
    """The page's text as a reader sees it (entities decoded)."""
    return html.unescape(response.content.decode())


def problems(response):
    return {row.line: row.problems for row in response.context["checked"].problem_rows}


def assert_refused_file(response, message):
    assert response.status_code == 200
    assert "The file cannot be imported" in response.text
    assert message in page(response)
    # One message, no table of lines and nothing to confirm.
    assert "Lines with problems" not in response.text
    assert 'name="csv_text"' not in response.text
    assert not Agreement.objects.exists()


# The page ------------------------------------------------------------------


def test_page_explains_the_columns_with_an_example(admin_client, program):
    response = admin_client.get(import_url(program))
    assert response.status_code == 200
    text = page(response)
    for column in ("mentor_email", "mentor_name", "mentee_email", "mentee_name"):
        assert f"<code>{column}</code>" in text
    assert "Other columns are refused" in text
    assert "<pre" in text and "maria.lopez@example.org,María López" in text
    assert 'type="file"' in text and "Check the file" in text


def test_page_says_when_the_program_term_fills_the_exit_date(admin_client, program):
    program.term_months = 6
    program.save()
    response = admin_client.get(import_url(program))
    assert "Left empty, it is 6 months after the start date" in response.text


def test_anonymous_is_sent_to_login(client, program):
    response = client.get(import_url(program))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("who", ["mentor", "outsider", "other_admin"])
def test_others_get_404(client, program, other_program, agreement, who, request):
    client_for(client, request.getfixturevalue(who))
    assert client.get(import_url(program)).status_code == 404
    good = f"{HEADER}a@example.org,Ann,b@example.org,Bob,,\n"
    assert check(client, program, good).status_code == 404
    assert confirm(client, program, good).status_code == 404
    assert Agreement.objects.count() == 1
    assert not User.objects.filter(email="a@example.org").exists()


# Files that cannot be read -------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty."),
        (b"\r\n  \r\n", "The file is empty."),
        (b",,,\n", "The file has no values in it, only commas."),
        (b'""\n', "The file has no values in it, only commas."),
        (HEADER.encode(), "The file names its columns but has no pairings below them."),
        (
            "mentor_email,mentor_name\nJosé@example.org,José\n".encode("latin-1"),
            "The file is not in UTF-8",
        ),
        (
            f"{HEADER}a@example.org,Ann,b@example.org,Bob,,\n".encode("utf-16"),
            "The file contains NUL bytes",
        ),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "The file contains NUL bytes"),
        (
            "mentor_email,mentor_name,mentee_email\na@example.org,Ann,b@example.org\n",
            "The first line does not name the required columns mentee_name.",
        ),
        (
            "Dear admin,\nhere are the pairs you asked for.\n",
            "it names none of the required ones: mentor_email, mentor_name, mentee_email, "
            "mentee_name",
        ),
        (
            HEADER.strip() + ",notes,Team\na@example.org,Ann,b@example.org,Bob,,,x,y\n",
            "The first line names columns this import does not know: notes, team.",
        ),
        (
            HEADER.strip() + ",mentor_email\na@example.org,Ann,b@example.org,Bob,,,a\n",
            "The first line names these columns more than once: mentor_email.",
        ),
        (
            HEADER.strip() + ",\na@example.org,Ann,b@example.org,Bob,,,\n",
            "The first line leaves column 7 without a name",
        ),
        (
            "mentor_email;mentor_name;mentee_email;mentee_name\na@example.org;Ann;b@x.org;Bob\n",
            "The columns are separated by semicolons; separate them with commas.",
        ),
        (
            f'{HEADER}a@example.org,"Ann" Lee,b@example.org,Bob,,\n',
            "This is not a CSV file that can be read: line 2 is malformed",
        ),
        (
            f'{HEADER}a@example.org,"Ann,b@example.org,Bob,,\n',
            "This is not a CSV file that can be read",
        ),
    ],
    ids=[
        "empty",
        "blank-lines",
        "only-commas",
        "one-empty-quoted-value",
        "header-only",
        "latin-1",
        "utf-16",
        "binary",
        "missing-column",
        "not-a-table",
        "extra-columns",
        "repeated-column",
        "unnamed-column",
        "semicolons",
        "stray-quote",
        "unclosed-quote",
    ],
)
def test_unreadable_file_gets_one_message(admin_client, program, content, message):
    assert_refused_file(check(admin_client, program, content), message)


def test_file_over_one_megabyte_is_refused(admin_client, program):
    row = f"someone@example.org,{'N' * 100},other@example.org,Other,,\n"
    content = HEADER + row * (1024 * 1024 // len(row) + 1)
    assert_refused_file(check(admin_client, program, content), "The file is larger than 1 MB.")


def test_more_than_2000_pairings_are_refused(admin_client, program):
    rows = "".join(f"m{i}@example.org,M,e{i}@example.org,E,,\n" for i in range(2001))
    assert_refused_file(
        check(admin_client, program, HEADER + rows), "The file has more than 2,000 pairings."
    )


def test_upload_without_a_file_is_refused(admin_client, program):
    response = admin_client.post(import_url(program), {})
    assert_refused_file(response, "This field is required.")


def test_bom_header_case_spaces_and_order_are_accepted(admin_client, program):
    content = (
        "\ufeff Mentee_Name ,MENTEE_EMAIL,Mentor_Email, mentor_name\n"
        "Bo Bee,bo@example.org,ann@example.org,Ann Lee\n"
    )
    response = check(admin_client, program, content.encode("utf-8"))
    row = response.context["checked"].rows[0]
    assert (row.mentor.email, row.mentor.name) == ("ann@example.org", "Ann Lee")
    assert (row.mentee.email, row.mentee.name) == ("bo@example.org", "Bo Bee")
    assert "Create 1 pairing" in response.text


# Lines with problems ------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not-an-email,Ann,b@example.org,Bob,,", "Mentor's email “not-an-email” is not a valid"),
        ("a@example.org,Ann,,Bob,,", "Mentee's email is missing."),
        ("a@example.org,  ,b@example.org,Bob,,", "Mentor's name is missing."),
        ("a@example.org,Ann,b@example.org,,,", "Mentee's name is missing."),
        (
            "a@example.org,Ann,A@Example.org,Ann Again,,",
            "A person cannot mentor themselves: choose two different people.",
        ),
        ("a@example.org,Ann,b@example.org,Bob,04/01/2027,", "Start date “04/01/2027” is not a"),
        ("a@example.org,Ann,b@example.org,Bob,2027-02-30,", "“2027-02-30” is not a date that"),
        (
            "a@example.org,Ann,b@example.org,Bob,2027-03-01,2027-03-01",
            "The exit date must be after the start date.",
        ),
        ("a@example.org,Ann,b@example.org,Bob,,2027-03-01", "An exit date needs a start date."),
        (f"a@example.org,{'A' * 151},b@example.org,Bob,,", "Mentor's name is longer than 150"),
        (f"a@example.org,Ann,{'b' * 250}@example.org,Bob,,", "Mentee's email is longer than 254"),
        ("a@example.org,Ann,b@example.org,Bob,,,surplus", "This line has 7 values"),
        ('a@example.org,=HYPERLINK("x"),b@example.org,Bob,,', "Mentor's name starts with “=”"),
        ("a@example.org,Ann,b@example.org,+1 Bob,,", "Mentee's name starts with “+”"),
        ("a@example.org,Ann,b@example.org,-Bob,,", "Mentee's name starts with “-”"),
        ("@a.example.org,Ann,b@example.org,Bob,,", "Mentor's email starts with “@”"),
        ('a@example.org,"\tAnn",b@example.org,Bob,,', "Mentor's name starts with a tab"),
        ('a@example.org,"\rAnn",b@example.org,Bob,,', "starts with a carriage return"),
        ("a@example.org,Ann,b@example.org, =1+1,,", "Mentee's name starts with “=”"),
    ],
)
def test_line_problem_is_shown_with_its_line_number(admin_client, program, line, message):
    content = f"{HEADER}ok@example.org,Olga,fine@example.org,Finn,,\n{line}\n"
    response = check(admin_client, program, content)
    assert list(problems(response)) == [3]
    assert any(message in problem for problem in problems(response)[3])
    text = page(response)
    assert "Lines with problems" in text
    assert "Problems on 1 of the 2 lines. Nothing was created" in text
    assert message in text
    assert 'name="csv_text"' not in text
    assert not Agreement.objects.exists()
    assert User.objects.filter(email__endswith="example.org").count() == 0


def test_formula_cells_are_refused_not_altered(admin_client, program):
    response = check(admin_client, program, f"{HEADER}a@example.org,=SUM(A1),b@x.org,Bob,,\n")
    assert "looks like a spreadsheet formula" in page(response)
    assert "=SUM(A1)" in page(response)


def test_repeated_pairing_names_both_lines(admin_client, program):
    content = (
        f"{HEADER}a@example.org,Ann,b@example.org,Bob,,\n"
        "c@example.org,Cy,b@example.org,Bob,,\n"
        "A@EXAMPLE.org,Ann,b@example.org,Bob,,\n"
    )
    response = check(admin_client, program, content)
    assert problems(response) == {4: ["Line 4 repeats the pairing on line 2: remove one of them."]}


def test_open_pairing_in_this_program_is_refused(admin_client, program, agreement):
    content = f"{HEADER}Mentor@Example.com,Maria Mentor,mentee@example.com,Milo Mentee,,\n"
    response = check(admin_client, program, content)
    assert problems(response) == {2: ["Maria Mentor already mentors Milo Mentee in this program."]}


def test_pairing_in_another_program_does_not_count(
    admin_client, program, other_program, mentor, mentee, other_admin
):
    pairing_create(program=other_program, mentor=mentor, mentee=mentee, created_by=other_admin)
    content = f"{HEADER}mentor@example.com,Maria Mentor,mentee@example.com,Milo Mentee,,\n"
    response = check(admin_client, program, content)
    assert "Create 1 pairing" in response.text


def test_deactivated_account_is_refused(admin_client, program, outsider):
    outsider.is_active = False
    outsider.save()
    content = f"{HEADER}a@example.org,Ann,OUTSIDER@example.com,Olga Outsider,,\n"
    response = check(admin_client, program, content)
    assert problems(response) == {
        2: ["outsider@example.com has an account that is deactivated: it cannot be paired."]
    }


def test_line_numbers_count_lines_inside_quotes_and_blank_lines(admin_client, program):
    content = (
        f'{HEADER}\na@example.org,"Ann\nLee",b@example.org,Bob,,\n'
        "\n"
        "c@example.org,Cy,c@example.org,Cy,,\n"
    )
    response = check(admin_client, program, content)
    assert list(problems(response)) == [6]
    assert response.context["checked"].rows[0].line == 3


# The preview ---------------------------------------------------------------


def test_check_shows_every_line_and_creates_nothing(admin_client, program, mentor):
    users = User.objects.count()
    content = (
        f"{HEADER}mentor@example.com,M. Mentor,nia@example.org,Nia New,2027-01-04,2027-07-04\n"
        "sam@example.org,Sam Sage,nia@example.org,Nia Newer,,\n"
    )
    response = check(admin_client, program, content)
    text = page(response)
    assert "Ready to import" in text
    assert "Create 2 pairings" in text
    assert "Nia New" in text and "Sam Sage" in text and "2027-07-04" in text
    # The account's own name is not shown to an admin who only typed its email.
    assert "mentor@example.com has an account already: it keeps the name on it." in text
    assert "Maria Mentor" not in text
    assert "nia@example.org is on line 2 as “Nia New”: the new account takes that name." in text
    assert "New: gets an invitation" in text
    assert not Agreement.objects.exists()
    assert User.objects.count() == users
    assert mail.outbox == []


def test_preview_shows_the_exit_date_from_the_program_term(admin_client, program):
    program.term_months = 6
    program.save()
    response = check(
        admin_client, program, f"{HEADER}a@example.org,A,b@example.org,B,2027-01-04,\n"
    )
    assert "2027-07-04" in response.text
    assert "from the program's term" in page(response)


def test_term_with_too_many_checkins_is_refused(admin_client, program):
    program.checkin_every_weeks = 1
    program.save()
    content = f"{HEADER}a@example.org,A,b@example.org,B,2027-01-04,2029-01-04\n"
    response = check(admin_client, program, content)
    assert "more than 60 check-ins, the most an agreement holds" in problems(response)[2][0]


def test_names_with_html_are_escaped(admin_client, program):
    name = '<script>alert("x")</script> {{ user.email }} שלום 🎉'
    content = f'{HEADER}a@example.org,"{name.replace(chr(34), chr(34) * 2)}",b@example.org,Bob,,\n'
    response = check(admin_client, program, content)
    assert "<script>alert" not in response.text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in response.text
    assert "{{ user.email }} שלום 🎉" in response.text
    bad = check(admin_client, program, f"{HEADER}<b>x</b>,A,b@example.org,B,,\n")
    assert "<b>x</b>" not in bad.text
    assert "“&lt;b&gt;x&lt;/b&gt;” is not a valid email address" in bad.text
    # The name survives the trip through the page unchanged.
    confirm(admin_client, program, response.context["checked"].text)
    assert User.objects.get(email="a@example.org").full_name == name


# Creating ------------------------------------------------------------------


def test_confirm_creates_every_pairing_and_sends_emails(
    admin_client, program, mentor, django_capture_on_commit_callbacks
):
    content = (
        f"{HEADER}mentor@example.com,M. Mentor,nia@example.org,Nia New,,\n"
        "sam@example.org,Sam Sage,tom@example.org,Tom Tern,2027-01-04,2027-07-04\n"
    )
    text = check(admin_client, program, content).context["checked"].text
    with django_capture_on_commit_callbacks(execute=True):
        response = confirm(admin_client, program, text)
    assert response.status_code == 302
    assert response.url == reverse("agreements:program", args=[program.uuid])
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Created 2 pairings. An email to each person is on its way: people new here an "
        "invitation to choose a password, the others a note about their pairing."
    ]
    first = Agreement.objects.get(mentor=mentor)
    assert (first.program, first.mentee.email, first.mentee.full_name) == (
        program,
        "nia@example.org",
        "Nia New",
    )
    mentor.refresh_from_db()
    assert mentor.full_name == "Maria Mentor"
    second = Agreement.objects.get(mentor__email="sam@example.org")
    assert second.mentor.full_name == "Sam Sage"
    assert (second.term.start_date, second.term.exit_date) == (
        datetime.date(2027, 1, 4),
        datetime.date(2027, 7, 4),
    )
    assert not second.mentor.has_usable_password()
    subjects = {message.to[0]: message.subject for message in mail.outbox}
    assert subjects == {
        "mentor@example.com": "You have been paired with Nia New in Test Programme",
        "nia@example.org": "You are invited to write a mentoring agreement in Test Programme",
        "sam@example.org": "You are invited to write a mentoring agreement in Test Programme",
        "tom@example.org": "You are invited to write a mentoring agreement in Test Programme",
    }


def test_failure_part_way_creates_nothing(
    admin_client, program, mentor, monkeypatch, django_capture_on_commit_callbacks
):
    calls = []

    def fails_second_time(**kwargs):
        calls.append(kwargs)
        if len(calls) == 2:
            raise IntegrityError("another admin was quicker")
        return pairing_invite(**kwargs)

    monkeypatch.setattr("agreements.services.pairing_invite", fails_second_time)
    users = User.objects.count()
    content = (
        f"{HEADER}mentor@example.com,Maria Mentor,nia@example.org,Nia New,,\n"
        "sam@example.org,Sam Sage,tom@example.org,Tom Tern,,\n"
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = confirm(admin_client, program, content)
    assert len(calls) == 2
    assert response.status_code == 200
    assert "Nothing was created: some of these pairings or accounts were created by someone" in (
        page(response)
    )
    assert not Agreement.objects.exists()
    assert User.objects.count() == users
    assert mail.outbox == []


def test_confirm_checks_again_and_creates_nothing_on_a_new_conflict(
    admin_client, program, program_admin, mentor, mentee
):
    content = (
        f"{HEADER}a@example.org,Ann,b@example.org,Bob,,\n"
        "mentor@example.com,Maria Mentor,mentee@example.com,Milo Mentee,,\n"
    )
    text = check(admin_client, program, content).context["checked"].text
    # Another admin pairs the two in the meantime.
    pairing_create(program=program, mentor=mentor, mentee=mentee, created_by=program_admin)
    response = confirm(admin_client, program, text)
    assert response.status_code == 200
    assert problems(response) == {3: ["Maria Mentor already mentors Milo Mentee in this program."]}
    assert Agreement.objects.count() == 1
    assert not User.objects.filter(email="a@example.org").exists()


def test_confirm_refuses_a_text_changed_since_the_check(admin_client, program):
    response = confirm(admin_client, program, f"{HEADER}a@example.org,@Ann,b@example.org,Bob,,\n")
    assert "Mentor's name starts with “@”" in page(response)
    assert not User.objects.filter(email="a@example.org").exists()
    response = confirm(admin_client, program, "mentor_email\na@example.org\n")
    assert_refused_file(response, "The first line does not name the required columns")


def test_check_runs_the_same_queries_for_5_and_50_lines(admin_client, program, agreement):
    for i in range(50):
        make_user(f"known{i}@example.org", f"Known {i}")

    def queries(count):
        rows = "".join(
            f"known{i}@example.org,Known {i},new{i}-{count}@example.org,New {i},2027-01-04,\n"
            for i in range(count)
        )
        rows += "mentor@example.com,Maria Mentor,mentee@example.com,Milo Mentee,,\n"
        with CaptureQueriesContext(connection) as captured:
            response = check(admin_client, program, HEADER + rows)
        assert len(response.context["checked"].rows) == count + 1
        return len(captured)

    assert queries(5) == queries(50)
