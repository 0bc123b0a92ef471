"""Django REST framework's field messages that its own catalog leaves in English in Vietnamese.

The pages show a serializer's messages as the API answers them (frontend/pages.py). DRF's
Vietnamese catalog lacks these; listed here, `make messages` puts them in this project's
catalog, which LOCALE_PATHS puts before DRF's, so the API and the pages say them in Vietnamese.
Never imported: the strings are DRF's own msgids, looked up when DRF raises them.
"""

from django.utils.translation import gettext_noop

DRF_STRINGS = (
    gettext_noop('"{input}" is not a valid choice.'),
    gettext_noop("This field is required."),
    gettext_noop("Ensure this field has no more than {max_length} characters."),
    gettext_noop("Must be a valid UUID."),
    gettext_noop("A valid integer is required."),
    gettext_noop("Ensure this value is less than or equal to {max_value}."),
    gettext_noop("Ensure this value is greater than or equal to {min_value}."),
    gettext_noop("Datetime has wrong format. Use one of these formats instead: {format}."),
)
