"""The signed-in person's own account: their time zone."""

from django.contrib import messages
from django.shortcuts import redirect, render

from agreements.forms import AccountForm


def account(request):
    form = AccountForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, f"Your time zone is now {form.cleaned_data['time_zone']}.")
        return redirect("agreements:account")
    return render(request, "agreements/account.html", {"form": form})
