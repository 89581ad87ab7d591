"""The program's settings: the agreement template new pairings start from, the
dashboard's flag and how its admins sign in."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from agreements import sign_on
from agreements.forms.programs import ProgramTemplateForm

from .access import program_for


def edit(request, program_id):
    program = program_for(request, program_id)
    form = ProgramTemplateForm(
        request.POST or None,
        instance=program,
        signed_on=request.method == "POST" and sign_on.signed_on_with(request, program),
    )
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(
            request,
            _(
                "Template saved. Pairings created from now on start from it; existing agreements "
                "keep what they started with."
            ),
        )
        return redirect("agreements:program_settings", program_id=program.uuid)
    return render(request, "programs/settings.html", {"program": program, "form": form})
