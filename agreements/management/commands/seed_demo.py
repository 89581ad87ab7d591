import datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from agreements import demo
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
}


class Command(BaseCommand):
    help = "Create a demo program with pairings in every state, and print the logins."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Run even though DEBUG is off.")

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
        self.stdout.write(f"\nEvery demo account's password is: {PASSWORD}\n")
        rows = [
            ("admin@example.com", "program admin of Northwind Mentoring Programme; superuser"),
            ("amira@example.com", "mentors Ben (empty draft) and Chen (half agreed)"),
            ("ben@example.com", "mentee of Amira; mentors Dana (signed by one party)"),
            ("chen@example.com", "mentee of Amira and of Eli (two mentors at once)"),
            ("dana@example.com", "mentee of Ben"),
            ("eli@example.com", "mentors Chen (active: a check-in recorded, the next due)"),
            ("fatima@example.com", "no pairing yet: pair her from the program page"),
            ("gus@example.com", "mentored Hana (ended on its exit date, closing notes)"),
            ("hana@example.com", "mentee of Gus (ended)"),
            ("ines@example.com", "mentors Jamal (active, a check-in overdue)"),
            ("jamal@example.com", "mentee of Ines"),
            ("kai@example.com", "mentors Lena (active, exit within 30 days)"),
            ("lena@example.com", "mentee of Kai"),
            ("noor@example.com", "invited as Ben's mentee, no password yet: see the console email"),
        ]
        for email, role in rows:
            self.stdout.write(f"  {email:<22} {role}")

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
        # Signed by the mentor only.
        one = pair("ben", "dana")
        demo.write_all(one, by=users["dana"], start=start)
        demo.agree_all(one)
        demo.sign_as(one, users["ben"])
        # Active for two months: the first check-in recorded by the mentor.
        today = timezone.localdate()
        active = pair("eli", "chen")
        demo.activate(active, start=today - datetime.timedelta(days=62))
        demo.write_checkin_records(active, by=users["eli"], today=today)
        assert Agreement.objects.get(pk=active.pk).status == Agreement.Status.ACTIVE  # noqa: S101
        # They share their goals with the program; the rest stays theirs.
        for person in ("eli", "chen"):
            active.consent_to_share(Section.Kind.GOALS, by=users[person])
        # In force for 75 days, its first check-in (day 60) never recorded.
        pair_overdue = pair("ines", "jamal")
        demo.activate(pair_overdue, start=today - datetime.timedelta(days=75))
        # Near its exit date: the dashboard flags it.
        ending = pair("kai", "lena")
        demo.activate(ending, start=today - datetime.timedelta(days=170))
        demo.write_checkin_records(ending, by=users["lena"], today=today, answer_both=True)
        # Someone new, invited: the invitation email goes to the console.
        pairing_invite(
            program=program,
            mentor=(users["ben"].full_name, users["ben"].email),
            mentee=("Noor Rahman", "noor@example.com"),
            created_by=admin,
        )
        # Ended on its exit date, after two check-ins and with both closing notes.
        ended = pair("gus", "hana")
        demo.activate(ended, start=today - datetime.timedelta(days=190))
        demo.write_checkin_records(ended, by=users["hana"], today=today, answer_both=True)
        demo.close(ended)
        Agreement.objects.get(pk=ended.pk).end_if_due(today)
        return program
