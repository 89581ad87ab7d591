"""The Sent emails page: what the file backend wrote, for superusers.

In the demo no email leaves the machine; this page is where invitation links
and every other email can be read. Everyone but a superuser gets 404.
"""

from django.conf import settings
from django.http import Http404
from django.shortcuts import render

from agreements import mailbox


def sent_emails(request):
    """The list, newest first; ``?message=<key>`` shows one message."""
    if not request.user.is_superuser:
        raise Http404
    context = {"writes_files": mailbox.writes_files(), "where": mailbox.where_emails_go()}
    if not context["writes_files"]:
        return render(request, "agreements/sent_emails.html", context)
    sent = mailbox.sent_emails(settings.EMAIL_FILE_PATH)
    key = request.GET.get("message")
    if key is not None:
        message = next((message for message in sent if message.key == key), None)
        if message is None:
            raise Http404("No such email.")
        return render(request, "agreements/sent_email.html", {"message": message})
    return render(request, "agreements/sent_emails.html", {**context, "sent": sent})
