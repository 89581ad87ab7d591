# Names that say what they hold: a section's edit counter is its "revision"
# ("version" names the frozen, signed AgreementVersion alone), and a version
# keeps its canonical JSON.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("agreements", "0006_text_line_limit"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="sectionrevision",
            name="agreements_sectionrevision_unique_version",
        ),
        migrations.RenameField(
            model_name="section",
            old_name="version",
            new_name="revision",
        ),
        migrations.RenameField(
            model_name="sectionrevision",
            old_name="version",
            new_name="revision",
        ),
        migrations.AlterModelOptions(
            name="sectionrevision",
            options={"ordering": ["section", "revision"]},
        ),
        migrations.RenameField(
            model_name="agreementversion",
            old_name="content",
            new_name="canonical_json",
        ),
        migrations.AddConstraint(
            model_name="sectionrevision",
            constraint=models.UniqueConstraint(
                fields=("section", "revision"),
                name="agreements_sectionrevision_unique_revision",
            ),
        ),
    ]
