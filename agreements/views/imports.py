from django.contrib import messages
from django.db import IntegrityError
from django.shortcuts import redirect, render
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from agreements import services
from agreements.forms.imports import PairingConfirmForm, PairingUploadForm
from agreements.models import Origin
from agreements.pairing_import import MAX_ROWS

from .access import program_for

EXAMPLE = """\
mentor_email,mentor_name,mentee_email,mentee_name,start_date,exit_date
maria.lopez@example.org,María López,sam.okafor@example.org,Sam Okafor,2027-01-04,2027-07-04
wei.chen@example.org,Wei Chen,jo.smith@example.org,"Smith, Jo",2027-02-01,
ana.silva@example.org,Ana Silva,sam.okafor@example.org,Sam Okafor,,
"""


def pairing_import(request, program_id):
    """Pairings from a CSV file: checked and shown first, created only on confirmation."""
    program = program_for(request, program_id)
    checked = None
    if request.method == "POST" and "csv_text" in request.POST:
        checked = PairingConfirmForm(request.POST, program=program)
        if checked.is_valid():
            try:
                services.pairings_import(
                    program=program,
                    rows=checked.rows,
                    created_by=request.user,
                    origin=Origin.of(request),
                )
            except IntegrityError:
                # Another admin created one of these pairings (or accounts) since the
                # check: nothing was created. Check again to show which lines.
                checked = PairingConfirmForm(request.POST, program=program)
                checked.is_valid()
                messages.error(
                    request,
                    _(
                        "Nothing was created: some of these pairings or accounts were created by "
                        "someone else in the meantime. Check the lines below and try again."
                    ),
                )
            else:
                count = len(checked.rows)
                messages.success(
                    request,
                    ngettext(
                        "Created %(count)s pairing. An email to each person is on its way: "
                        "people new here an invitation to choose a password, the others a note "
                        "about their pairing.",
                        "Created %(count)s pairings. An email to each person is on its way: "
                        "people new here an invitation to choose a password, the others a note "
                        "about their pairing.",
                        count,
                    )
                    % {"count": count},
                )
                return redirect("agreements:program", program_id=program.uuid)
    elif request.method == "POST":
        checked = PairingUploadForm(request.POST, request.FILES, program=program)
        checked.is_valid()
    return render(
        request,
        "programs/pairing_import.html",
        {
            "program": program,
            "form": PairingUploadForm(program=program),
            "checked": checked,
            "example": EXAMPLE,
            # The number, for choosing the plural; and as shown ("1,000").
            "max_rows": MAX_ROWS,
            "max_rows_shown": number_format(MAX_ROWS, force_grouping=True),
        },
    )
