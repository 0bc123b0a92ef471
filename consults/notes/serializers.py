"""Shapes of the notes API. Input serializers are strict: unknown fields are errors."""

from typing import Any

from rest_framework import serializers

from consults.notes.models import Addendum, NoteRevision, Report
from consults.realtime import events
from telehealth.serializers import StrictSerializer
from telehealth.storable import INT_MAX


class NoteWriteSerializer(StrictSerializer):
    content = serializers.DictField()  # its fields depend on the section (sections.py)
    base_revision = serializers.IntegerField(min_value=0, max_value=INT_MAX)
    client_edit_id = serializers.CharField(max_length=64)  # the retry's identity (docs/notes.md)


class ChatWriteSerializer(StrictSerializer):
    text = serializers.CharField(max_length=2000, trim_whitespace=False)
    client_msg_id = serializers.CharField(max_length=64, required=False, allow_blank=True)


class AddendumWriteSerializer(StrictSerializer):
    text = serializers.CharField(max_length=10_000)


class AttachmentUploadSerializer(StrictSerializer):
    file = serializers.FileField(allow_empty_file=True)
    caption = serializers.CharField(max_length=300, required=False, allow_blank=True)


class RevisionSerializer(serializers.ModelSerializer[NoteRevision]):
    author = serializers.SerializerMethodField()
    section = serializers.CharField(source="section.key")

    class Meta:
        model = NoteRevision
        fields = [
            "section",
            "number",
            "base_revision",
            "outcome",
            "content",
            "author",
            "client_edit_id",
            "channel",
            "at",
        ]

    def get_author(self, obj: NoteRevision) -> dict[str, Any] | None:
        return events.person(obj.author)


class AddendumSerializer(serializers.ModelSerializer[Addendum]):
    id = serializers.UUIDField(source="external_id")
    author = serializers.SerializerMethodField()

    class Meta:
        model = Addendum
        fields = ["id", "author", "text", "created_at"]

    def get_author(self, obj: Addendum) -> dict[str, Any] | None:
        return events.person(obj.author)


class ReportSerializer(serializers.ModelSerializer[Report]):
    id = serializers.UUIDField(source="external_id")
    signed_by = serializers.SerializerMethodField()
    addenda = AddendumSerializer(many=True)

    class Meta:
        model = Report
        fields = ["id", "signed_by", "signed_at", "licence_number", "snapshot", "addenda"]

    def get_signed_by(self, obj: Report) -> dict[str, Any] | None:
        return events.person(obj.signed_by)
