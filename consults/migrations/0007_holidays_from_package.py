"""National holidays come from the `holidays` package now: take back out the rows that
migration 0002 seeded from the hand list, exactly as seeded. A national row an
administrator added, or a seeded one renamed, stays (it still closes its day), and so does
every facility closure."""

from django.db import migrations

from consults.migrations._legacy_holidays import VIETNAMESE_HOLIDAYS


def unseed_holidays(apps, schema_editor):
    Holiday = apps.get_model("consults", "Holiday")
    for day, name_vi, name_en in VIETNAMESE_HOLIDAYS:
        Holiday.objects.filter(
            facility=None, date=day, name_vi=name_vi, name_en=name_en
        ).delete()


def reseed_holidays(apps, schema_editor):
    Holiday = apps.get_model("consults", "Holiday")
    for day, name_vi, name_en in VIETNAMESE_HOLIDAYS:
        Holiday.objects.get_or_create(
            date=day, facility=None, defaults={"name_vi": name_vi, "name_en": name_en}
        )


class Migration(migrations.Migration):
    dependencies = [("consults", "0006_notes_client_ids_unique")]

    operations = [migrations.RunPython(unseed_holidays, reseed_holidays)]
