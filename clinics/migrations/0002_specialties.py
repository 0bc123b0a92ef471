from django.db import migrations

from clinics.specialties import specialties_ensure


def add_specialties(apps, schema_editor):
    specialties_ensure(apps.get_model("clinics", "Specialty"))


class Migration(migrations.Migration):
    dependencies = [("clinics", "0001_initial")]
    operations = [migrations.RunPython(add_specialties, migrations.RunPython.noop)]
