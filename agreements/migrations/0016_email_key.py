import logging
import unicodedata

from django.db import IntegrityError, migrations, transaction

logger = logging.getLogger(__name__)


def key(address):
    # agreements.models.users.email_key as it was when this migration was written.
    return unicodedata.normalize("NFKC", address or "").strip().lower()


def store_addresses_in_their_one_form(apps, schema_editor):
    """Every account's address in the form lookups now compare exactly. One
    whose form another account has already is left as it is, and named in a
    warning: it cannot log in until an admin resolves the two."""
    User = apps.get_model("agreements", "User")
    for pk, email in User.objects.values_list("pk", "email").iterator():
        if email != key(email):
            try:
                with transaction.atomic():
                    User.objects.filter(pk=pk).update(email=key(email))
            except IntegrityError:
                logger.warning(
                    "Account %s keeps its address %r: account with %r exists.", pk, email, key(email)
                )


class Migration(migrations.Migration):
    dependencies = [
        ("agreements", "0015_audit_length"),
    ]

    operations = [
        migrations.RunPython(
            store_addresses_in_their_one_form, migrations.RunPython.noop, elidable=True
        ),
    ]
