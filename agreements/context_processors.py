"""What the menu of every signed-in page shows: how many things wait for the
person. The home page lists them (``views.agreements.home``), leaving out a
program that asks for a single sign-on this session did not log in with, and
so does the count."""

from django.utils.functional import cached_property

from agreements import sign_on
from agreements.models import User
from agreements.models.discussion import count_of, unread_comments
from agreements.models.proposals import proposals_to_answer


def waiting(request):
    """``waiting.count``: counted when a template reads it, not before."""
    return {"waiting": Waiting(request)}


class Waiting:
    def __init__(self, request):
        self.request = request

    @cached_property
    def count(self):
        """Open proposals the person is to answer and comments they have not
        read: one query, however many agreements, comments and proposals."""
        user = self.request.user
        if not user.is_authenticated:
            return 0
        shown = sign_on.open_programs(self.request, via="section__agreement__program__")
        total = count_of(proposals_to_answer(user).filter(shown)) + count_of(
            unread_comments(user).filter(shown)
        )
        return User.objects.filter(pk=user.pk).values_list(total, flat=True).get()
