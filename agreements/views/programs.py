"""The program admin's pages: the review dashboard, its CSV export, one
pairing's page and the actions on it. Admins see that a pairing exists and how
it is doing; of its content, only the sections both parties share, and the
discussions of those that both share too."""

from functools import partial

from django.contrib import messages
from django.db import IntegrityError
from django.db.models import Prefetch
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from agreements import dashboard, services
from agreements.exceptions import AgreementError
from agreements.forms.pairings import EndPairingForm, PairingForm, RepairForm
from agreements.models import (
    Agreement,
    AuditEvent,
    Origin,
    Pause,
    Program,
    Section,
    SectionComment,
)
from agreements.models.sharing import PROGRAM_ADMIN_VIEW

from .access import attempt, pairing_for, program_for

PAIRINGS_PER_PAGE = 50


def _pairing_url(agreement):
    """The pairing's page in its program's dashboard."""
    return reverse("agreements:pairing", args=[agreement.program.uuid, agreement.uuid])


def program_list(request):
    programs = Program.objects.administered_by(request.user)
    if len(programs) == 1:
        return redirect("agreements:program", program_id=programs[0].uuid)
    return render(request, "programs/list.html", {"programs": programs})


def detail(request, program_id):
    """The review dashboard."""
    program = program_for(request, program_id)
    filters = dashboard.Filters(request.GET)
    # The program's day (TIME_ZONE), which the columns kept on each row are for.
    today, now = timezone.localdate(), timezone.now()
    summary = dashboard.summary(program, today=today, now=now)
    pairings = dashboard.filtered(program, filters, today=today, now=now)
    pages = dashboard.Pages(pairings, PAIRINGS_PER_PAGE, count=dashboard.counted(summary, filters))
    page = pages.get_page(request.GET.get("page"))
    rows = [
        {
            "agreement": agreement,
            "days": (today - timezone.localdate(agreement.created_at)).days,
            "flags": dashboard.flags_of(agreement, program),
            "since": timesince(agreement.last_activity_at, now),
        }
        for agreement in dashboard.with_parties(page)
    ]
    columns = [
        {
            "key": key,
            "label": label,
            "active": filters.sort.lstrip("-") == key,
            "descending": filters.sort.startswith("-"),
            "query": filters.query(sort=filters.sort_on(key)),
        }
        for key, label in dashboard.COLUMNS
    ]
    for status in summary["statuses"]:
        status["query"] = filters.query(status=status["value"])
    for flag in summary["flags"]:
        flag["query"] = filters.query(flag=flag["value"])
    return render(
        request,
        "programs/detail.html",
        {
            "program": program,
            "page": page,
            "rows": rows,
            "filters": filters,
            "columns": columns,
            # Each cell's column, for where the rows show as cards: in words
            # once a page, not once a cell.
            "labels": {key: str(label) for key, label in dashboard.COLUMNS},
            "summary": summary,
            "statuses": Agreement.Status.choices,
            "flags": dashboard.Flag.choices_in(program),
            "sorts": dashboard.SORT_CHOICES,
        },
    )


def export(request, program_id):
    """The dashboard's rows, as filtered and sorted, as CSV: metadata only."""
    program = program_for(request, program_id)
    filters = dashboard.Filters(request.GET)
    today = timezone.localdate()  # the program's day, as on the dashboard
    pairings = dashboard.filtered(program, filters, today=today)
    response = StreamingHttpResponse(
        dashboard.export_rows(pairings, today=today), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="pairings-{today.isoformat()}.csv"'
    return response


def _shared_threads(agreement, kinds):
    """{kind: comments, oldest first} of the discussions both parties share,
    among the sections ``kinds``: one query, and none when none is shared.
    Comments of any other discussion are never loaded."""
    kinds = [kind for kind in agreement.shared_discussions() if kind in kinds]
    if not kinds:
        return {}
    threads = {kind: [] for kind in kinds}
    comments = SectionComment.objects.filter(
        section__agreement=agreement, section__kind__in=kinds
    ).select_related("author", "section")
    for comment in comments:
        threads[comment.section.kind].append(comment)
    return threads


# The program learns that a pair is paused and until when: a pause's note is
# never loaded for it.
_PAUSE_DATES = Pause.objects.only("agreement", "starts_on", "until", "cancelled_at")


def pairing_detail(request, program_id, agreement_id):
    program = program_for(request, program_id)
    today = timezone.localdate()  # the program's day, as on the dashboard
    row = get_object_or_404(dashboard.pairings(program, today=today), uuid=agreement_id)
    # Content is loaded only to show the sections both parties share.
    agreement = (
        Agreement.objects.with_working_copy()
        .prefetch_related("sharing_consents", "checkin_records", Prefetch("pauses", _PAUSE_DATES))
        .get(pk=row.pk)
    )
    in_force = agreement.version_in_force
    shared, redrafted = [], []
    for kind in agreement.shared_kinds():
        # Before anything is signed, only what both agreed to: never a change
        # one of them made since.
        readable = in_force or agreement.sections_by_kind[kind].is_agreed
        (shared if readable else redrafted).append((kind, Section.Kind(kind).label))
    # A discussion shows under its section only: never one whose section does not.
    threads = _shared_threads(agreement, [kind for kind, _label in shared])
    content = None
    if shared:
        content = in_force.as_content() if in_force else agreement.working_copy()
        # The trail is a record: it names the sections in the source language,
        # whatever language the admin reads in.
        with translation.override(None):
            names = [str(label) for _kind, label in shared]
            discussed = [str(label) for kind, label in shared if kind in threads]
        details = {"by": PROGRAM_ADMIN_VIEW, "sections": names}
        if discussed:
            details["discussions"] = discussed
        agreement.audit_access(
            AuditEvent.Kind.VIEWED,
            actor=request.user,
            origin=Origin.of(request),
            details=details,
        )
    shared = [(kind, label, threads.get(kind)) for kind, label in shared]
    return render(
        request,
        "programs/pairing.html",
        {
            "program": program,
            "agreement": agreement,
            "row": row,
            "flags": dashboard.flags_of(row, program),
            "days": (today - timezone.localdate(agreement.created_at)).days,
            "held": [record.planned_date for record in agreement.checkin_records.all()],
            "today": today,
            "pause": None if agreement.is_ended else agreement.pause_to_come(today),
            "shared": shared,
            "redrafted": redrafted,
            "content": content,
            "in_force": in_force,
            "can_remind": not (agreement.is_ended or agreement.reminded_recently(timezone.now())),
            "invited": [
                person
                for person in (agreement.mentor, agreement.mentee)
                if not person.has_usable_password()
            ],
        },
    )


@require_POST
def pairing_remind(request, program_id, agreement_id):
    agreement = pairing_for(request, program_id, agreement_id)
    return attempt(
        request,
        partial(agreement.remind_by_program, by=request.user, origin=Origin.of(request)),
        done=_(
            "A reminder is on its way to %(mentor)s and %(mentee)s, each with what waits for them."
        )
        % {"mentor": agreement.mentor.full_name, "mentee": agreement.mentee.full_name},
        back=_pairing_url(agreement),
    )


def pairing_end(request, program_id, agreement_id):
    agreement = pairing_for(request, program_id, agreement_id)
    if agreement.is_ended:
        messages.info(request, _("This pairing has already ended."))
        return redirect(_pairing_url(agreement))
    form = EndPairingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        return attempt(
            request,
            partial(
                agreement.end_by_program,
                by=request.user,
                note=form.cleaned_data["reason"],
                origin=Origin.of(request),
            ),
            done=_("The pairing has ended. An email with your reason is on its way to both."),
            back=_pairing_url(agreement),
        )
    return render(
        request,
        "programs/pairing_end.html",
        {"program": agreement.program, "agreement": agreement, "form": form},
    )


def pairing_repair(request, program_id, agreement_id):
    agreement = pairing_for(request, program_id, agreement_id)
    if agreement.is_ended:
        messages.info(request, _("This pairing has already ended."))
        return redirect(_pairing_url(agreement))
    form = RepairForm(request.POST or None, agreement=agreement)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            new = services.pairing_repair(
                agreement=agreement,
                mentor=(data["mentor_name"], data["mentor_email"]),
                note=data["reason"],
                by=request.user,
                origin=Origin.of(request),
            )
        except (AgreementError, IntegrityError):
            form.add_error(
                None, _("This pairing changed a moment ago. Look at it again before re-pairing.")
            )
        else:
            messages.success(
                request,
                _(
                    "%(mentee)s is now paired with %(mentor)s. The earlier pairing has ended, "
                    "and emails to everyone involved are on their way."
                )
                % {"mentee": new.mentee.full_name, "mentor": new.mentor.full_name},
            )
            return redirect("agreements:pairing", program_id=program_id, agreement_id=new.uuid)
    return render(
        request,
        "programs/pairing_repair.html",
        {"program": agreement.program, "agreement": agreement, "form": form},
    )


def pairing_new(request, program_id):
    program = program_for(request, program_id)
    form = PairingForm(request.POST or None, program=program)
    if request.method == "POST" and form.is_valid():
        mentor, mentee = form.people()
        try:
            agreement = services.pairing_invite(
                program=program,
                mentor=mentor,
                mentee=mentee,
                created_by=request.user,
                origin=Origin.of(request),
                start_date=form.cleaned_data["start_date"],
                exit_date=form.cleaned_data["exit_date"],
            )
        except IntegrityError:
            # Another admin paired the same two people a moment ago.
            form.add_error(None, _("These two people were just paired in this program."))
        else:
            messages.success(
                request,
                _(
                    "%(mentor)s and %(mentee)s are paired. An email to each is on its way: an "
                    "invitation to choose a password, or a note that the pairing is ready."
                )
                % {"mentor": agreement.mentor.full_name, "mentee": agreement.mentee.full_name},
            )
            return redirect("agreements:program", program_id=program.uuid)
    return render(request, "programs/pairing_new.html", {"program": program, "form": form})
