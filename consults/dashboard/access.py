"""Who sees the programme dashboard: administrators and programme managers.

A programme manager is an `admin` membership (e.g. at the provincial health department),
so no new role: see docs/dashboard.md. Everyone else gets a 404, never a 403.
"""

from typing import Any

from clinics.access import is_admin


def can_see_dashboard(user: Any) -> bool:
    return is_admin(user)
