from django.contrib import messages
from django.core.paginator import Paginator
from django.db import IntegrityError
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render

from agreements.forms import PairingForm
from agreements.models import Agreement, CheckInRecord, Origin, Program
from agreements.services import pairing_create

PAIRINGS_PER_PAGE = 50


def _program_for(request, program_id):
    """The program if the user administers it, else 404."""
    return get_object_or_404(Program.objects.administered_by(request.user), uuid=program_id)


def detail(request, program_id):
    program = _program_for(request, program_id)
    # Metadata only: the pairing list never loads an agreement's content.
    pairings = (
        Agreement.objects.filter(program=program)
        .select_related("mentor", "mentee", "term")
        .prefetch_related(
            "versions",
            # Which check-ins were held, never what was said at them.
            Prefetch(
                "checkin_records",
                queryset=CheckInRecord.objects.only("agreement", "planned_date", "held_on"),
            ),
        )
        .with_next_checkin()
        .order_by("-last_activity_at")
    )
    page = Paginator(pairings, PAIRINGS_PER_PAGE).get_page(request.GET.get("page"))
    today = request.user.today()
    rows = [(agreement, agreement.checkin_summary(today)) for agreement in page]
    return render(
        request, "agreements/program.html", {"program": program, "page": page, "rows": rows}
    )


def pairing_new(request, program_id):
    program = _program_for(request, program_id)
    form = PairingForm(request.POST or None, program=program)
    if request.method == "POST" and form.is_valid():
        try:
            agreement = pairing_create(
                program=program,
                mentor=form.cleaned_data["mentor_email"],
                mentee=form.cleaned_data["mentee_email"],
                created_by=request.user,
                origin=Origin.of(request),
            )
        except IntegrityError:
            # Another admin paired the same two people a moment ago.
            form.add_error(None, "These two people were just paired in this program.")
            return render(
                request, "agreements/pairing_new.html", {"program": program, "form": form}
            )
        messages.success(
            request,
            f"{agreement.mentor.full_name} and {agreement.mentee.full_name} are paired. They "
            "can now write their agreement.",
        )
        return redirect("agreements:program", program_id=program.uuid)
    return render(request, "agreements/pairing_new.html", {"program": program, "form": form})
