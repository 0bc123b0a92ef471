"""Phone numbers stored in E.164 (+84…). Every existing number that parses (region VN) is
rewritten; a legacy value that is no number is kept exactly as typed and reported by row
(never the value: a patient's phone is personal data), for someone to correct by hand."""

import clinics.models
import phonenumbers
from django.db import migrations
from django.db.models import Q

PHONE_FIELDS = [
    ("User", ["phone"]),
    ("Facility", ["hotline"]),
    ("Patient", ["phone", "guardian_phone"]),
]


def e164(value):
    try:
        number = phonenumbers.parse(value, "VN")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_phones(apps):
    """Rewrite the numbers; return the (model, pk, field) kept as typed."""
    kept = []
    for model_name, fields in PHONE_FIELDS:
        model = apps.get_model("clinics", model_name)
        has_one = Q()
        for field in fields:
            has_one |= ~Q(**{field: ""})
        for row in model.objects.filter(has_one).only(*fields).order_by("pk"):
            changed = {}
            for field in fields:
                value = getattr(row, field)
                if not value:
                    continue
                normal = e164(value)
                if normal is None:
                    kept.append((model_name, row.pk, field))
                elif normal != value:
                    changed[field] = normal
            if changed:
                model.objects.filter(pk=row.pk).update(**changed)
    return kept


def forwards(apps, schema_editor):
    kept = normalize_phones(apps)
    if kept:
        rows = ", ".join(f"{model} {pk} {field}" for model, pk, field in kept)
        print(f"\n  clinics.0008: {len(kept)} phone values are not numbers, kept as typed: {rows}")


class Migration(migrations.Migration):

    dependencies = [
        ('clinics', '0007_programme_manager'),
    ]

    operations = [
        migrations.AlterField(
            model_name='facility',
            name='hotline',
            field=clinics.models.PhoneField(blank=True, max_length=20, verbose_name='hotline'),
        ),
        migrations.AlterField(
            model_name='patient',
            name='guardian_phone',
            field=clinics.models.PhoneField(blank=True, max_length=20, verbose_name="guardian's phone"),
        ),
        migrations.AlterField(
            model_name='patient',
            name='phone',
            field=clinics.models.PhoneField(blank=True, max_length=20, verbose_name='phone'),
        ),
        migrations.AlterField(
            model_name='user',
            name='phone',
            field=clinics.models.PhoneField(blank=True, max_length=20, verbose_name='phone'),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
