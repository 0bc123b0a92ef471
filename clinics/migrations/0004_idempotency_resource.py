import uuid

from django.db import migrations, models

# The kind of resource each call site's answer shows, by the scope's first part.
KINDS = {
    "patient_register": "patient",
    "consent": "consent",
    "consultation_book": "consultation",
    "check_in": "consultation",
    "cancel": "consultation",
    "no_show": "consultation",
    "reschedule": "consultation",
    "consult_request_file": "consultrequest",
    "request_accept": "consultrequest",
    "request_ask-info": "consultrequest",
    "request_answer": "consultrequest",
    "request_decline": "consultrequest",
    "notes_attachment": "attachment",
    "notes_addendum": "addendum",
}


def name_what_stored_answers_show(apps, schema_editor):
    """Every stored answer carries its resource's public id as `id`. One that cannot be
    named is forgotten: its key is a new key, as past retention."""
    Record = apps.get_model("clinics", "IdempotencyRecord")
    for record in Record.objects.all().iterator():
        kind = KINDS.get(record.scope.split(":", 1)[0])
        body = record.body if isinstance(record.body, dict) else {}
        try:
            public_id = uuid.UUID(str(body.get("id")))
        except ValueError:
            public_id = None
        if kind is None or public_id is None:
            Record.objects.filter(pk=record.pk).delete()
            continue
        Record.objects.filter(pk=record.pk).update(resource_kind=kind, resource_id=public_id)


class Migration(migrations.Migration):
    dependencies = [
        ("clinics", "0003_idempotency_created_at"),
    ]

    operations = [
        migrations.AddField(
            model_name="idempotencyrecord",
            name="resource_kind",
            field=models.CharField(default="", max_length=40),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="idempotencyrecord",
            name="resource_id",
            field=models.UUIDField(default=uuid.UUID(int=0)),
            preserve_default=False,
        ),
        migrations.RunPython(name_what_stored_answers_show, migrations.RunPython.noop),
    ]
