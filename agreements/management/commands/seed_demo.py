import datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from agreements import demo, mailbox
from agreements.models import Agreement, Program, Section, User
from agreements.services import pairing_create, pairing_invite

PASSWORD = "mentoring-demo"  # noqa: S105 - documented demo login, local data only

PEOPLE = {
    "admin": ("admin@example.com", "Alex Admin"),
    "amira": ("amira@example.com", "Amira Haddad"),
    "ben": ("ben@example.com", "Ben Okafor"),
    "chen": ("chen@example.com", "Chen Wei"),
    "dana": ("dana@example.com", "Dana Kowalski"),
    "eli": ("eli@example.com", "Eli Cohen"),
    "fatima": ("fatima@example.com", "Fatima Nouri"),
    "gus": ("gus@example.com", "Gustavo Lima"),
    "hana": ("hana@example.com", "Hana Sato"),
    "ines": ("ines@example.com", "Inès Duarte"),
    "jamal": ("jamal@example.com", "Jamal Mensah"),
    "kai": ("kai@example.com", "Kai Andersen"),
    "lena": ("lena@example.com", "Lena Fischer"),
    "mia": ("mia@example.com", "Mia Laurent"),
    "omar": ("omar@example.com", "Omar Farouk"),
}
# Invited by the program, without a password until the invitation is accepted.
INVITED = ("noor@example.com", "Noor Rahman")

# What each login shows; the README's table of demo logins says the same at
# more length (tests/test_seed_demo.py holds them to the same logins).
LOGINS = [
    ("admin@example.com", "runs Northwind: lands on its dashboard; superuser"),
    ("amira@example.com", "mentors Ben (empty draft) and Chen (half agreed)"),
    ("ben@example.com", "mentee of Amira; mentors Dana (awaiting), Noor"),
    ("chen@example.com", "mentee of Amira, and of Eli (active)"),
    ("dana@example.com", "mentee of Ben: her signature is awaited"),
    ("eli@example.com", "mentors Chen: active, a check-in to record today"),
    ("fatima@example.com", "not paired yet: pair her from the dashboard"),
    ("gus@example.com", "mentored Hana: ended, with closing notes"),
    ("hana@example.com", "mentee of Gus (ended)"),
    ("ines@example.com", "mentors Jamal (overdue); runs the Graduate Circle"),
    ("jamal@example.com", "mentee of Ines: a check-in overdue"),
    ("kai@example.com", "mentors Lena: active, exit date within 30 days"),
    ("lena@example.com", "mentee of Kai"),
    ("mia@example.com", "mentors Omar: 0 days' notice, an exit ends at once"),
    ("omar@example.com", "mentee of Mia"),
    ("noor@example.com", "invited as Ben's mentee: see Sent emails"),
]


class Command(BaseCommand):
    help = "Create a demo program with pairings in every state, and print the logins."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Run even though DEBUG is off.")
        parser.add_argument(
            "--worker-log", default="", help="Where the demo's task worker writes, to say so."
        )

    def handle(self, *args, **options):
        # The demo accounts share a published password and one is a superuser.
        if not (settings.DEBUG or options["force"]):
            raise CommandError(
                "seed_demo creates accounts with a published password; run it with "
                "DEBUG=true on a development machine, or pass --force."
            )
        program = Program.objects.filter(name="Northwind Mentoring Programme").first()
        if program is None:
            with transaction.atomic():
                program = self._create()
            self.stdout.write(self.style.SUCCESS("Demo data created."))
        else:
            self.stdout.write("Demo data already present.")
            seeded = timezone.localdate(program.created_at)
            if seeded != timezone.localdate():
                # The states below are true on the day of seeding: a check-in
                # due "today", an exit date "within 30 days".
                self.stdout.write(
                    self.style.WARNING(
                        f"It was seeded on {seeded:%d %b %Y}: what the list below says is "
                        "due today was due then. For fresh demo data: "
                        "rm db.sqlite3 && rm -rf var/mail && make demo"
                    )
                )
        self.stdout.write(self._banner(options["worker_log"]))

    def _banner(self, worker_log):
        """The address, the logins and where emails are, boxed, to stay in view."""
        lines = [
            f"The demo: {settings.SITE_URL}",
            f"Every demo password: {PASSWORD}",
            "",
            *(f"  {email:<19} {what}" for email, what in LOGINS),
            "",
        ]
        if mailbox.writes_files():
            page = settings.SITE_URL + reverse("agreements:sent_emails")
            lines += [
                "Emails, invitation links too: the Sent emails page,",
                f"  {page} (as admin@example.com)",
            ]
        else:
            lines += ["Emails:", f"  {mailbox.where_emails_go()}"]
        if worker_log:
            lines += [
                f"The task worker's output: {worker_log}",
                "Ctrl-C stops the web server and the task worker.",
            ]
        width = max(len(line) for line in lines)
        edge = "+" + "-" * (width + 2) + "+"
        return "\n".join(["", edge, *(f"| {line:<{width}} |" for line in lines), edge, ""])

    def _create(self):
        users = {}
        for key, (email, name) in PEOPLE.items():
            user = User.objects.filter(email=email).first()
            if user is None:
                user = User.objects.create_user(email, PASSWORD, full_name=name)
            users[key] = user
        # The pair in force lives an hour apart: the meeting time is Chen's.
        for key, zone in (("chen", "Europe/London"), ("eli", "Europe/Berlin")):
            users[key].time_zone = zone
            users[key].save(update_fields=["time_zone"])
        admin = users["admin"]
        admin.is_staff = admin.is_superuser = True
        admin.save()
        program = Program.objects.create(
            name="Northwind Mentoring Programme",
            # The template: the exception procedure and the notice are program
            # policy; the term length and check-in rhythm are suggestions.
            exceptions_notes=(
                "Where it is safe, the mentor tells the mentee first, then the program's "
                "wellbeing lead. Nothing else is passed on."
            ),
            exceptions_notes_locked=True,
            notice_days=14,
            notice_days_locked=True,
            term_months=6,
            checkin_every_weeks=8,
        )
        program.admins.add(admin)
        start = timezone.localdate() - datetime.timedelta(days=20)

        def pair(mentor, mentee):
            return pairing_create(
                program=program, mentor=users[mentor], mentee=users[mentee], created_by=admin
            )

        # An empty draft, unsigned for three weeks: the dashboard flags it.
        draft = pair("amira", "ben")
        Agreement.objects.filter(pk=draft.pk).update(
            created_at=timezone.now() - datetime.timedelta(days=21)
        )
        # Half agreed: everything written, four sections agreed by both.
        half = pair("amira", "chen")
        demo.write_all(half, by=users["amira"], start=start)
        demo.agree_all(half, kinds=Section.Kind.values[:4])
        # They are still talking confidentiality over.
        half.comment_on(
            Section.Kind.CONFIDENTIALITY,
            by=users["chen"],
            text="Could we say more about what you may tell my line manager?",
        )
        half.comment_on(
            Section.Kind.CONFIDENTIALITY,
            by=users["amira"],
            text="Yes: only that we meet, unless you ask me to say more. I'll edit it.",
        )
        # Signed by the mentor only.
        one = pair("ben", "dana")
        demo.write_all(one, by=users["dana"], start=start)
        demo.agree_all(one)
        demo.sign_as(one, users["ben"])
        # Active for four months: the first check-in (day 60) recorded by the
        # mentor and not yet answered, the second (day 120) due today.
        today = timezone.localdate()
        active = pair("eli", "chen")
        demo.activate(active, start=today - datetime.timedelta(days=120))
        yesterday = today - datetime.timedelta(days=1)
        demo.write_checkin_records(active, by=users["eli"], today=yesterday)
        demo.keep_meetings(active, today=today)
        assert Agreement.objects.get(pk=active.pk).status == Agreement.Status.ACTIVE  # noqa: S101
        # They share their goals with the program; the rest stays theirs.
        for person in ("eli", "chen"):
            active.consent_to_share(Section.Kind.GOALS, by=users[person])
        # In force for 75 days, its first check-in (day 60) never recorded.
        # Written in French, and shown in English beside it.
        pair_overdue = pair("ines", "jamal")
        demo.write_language(pair_overdue, "fr", "en-gb", by=users["ines"])
        demo.activate(pair_overdue, start=today - datetime.timedelta(days=75))
        # Near its exit date: the dashboard flags it.
        ending = pair("kai", "lena")
        demo.activate(ending, start=today - datetime.timedelta(days=170))
        demo.write_checkin_records(ending, by=users["lena"], today=today, answer_both=True)
        demo.keep_meetings(ending, today=today)
        # Someone new, invited: the task worker sends the invitation email.
        pairing_invite(
            program=program,
            mentor=(users["ben"].full_name, users["ben"].email),
            mentee=(INVITED[1], INVITED[0]),
            created_by=admin,
        )
        # Ended on its exit date, after two check-ins and with both closing notes.
        ended = pair("gus", "hana")
        demo.activate(ended, start=today - datetime.timedelta(days=190))
        demo.write_checkin_records(ended, by=users["hana"], today=today, answer_both=True)
        demo.close(ended)
        Agreement.objects.get(pk=ended.pk).end_if_due(today)
        self._graduate_circle(users, start=today - datetime.timedelta(days=30))
        return program

    def _graduate_circle(self, users, *, start):
        """A second program, whose policy is no notice: its pair's no-fault
        exit ends the agreement at once, so the end can be seen in the demo.
        Ines runs it and has an agreement of her own in Northwind."""
        circle = Program.objects.create(
            name="Northwind Graduate Circle", notice_days=0, notice_days_locked=True
        )
        circle.admins.add(users["ines"])
        agreement = pairing_create(
            program=circle, mentor=users["mia"], mentee=users["omar"], created_by=users["ines"]
        )
        demo.activate(agreement, start=start)
