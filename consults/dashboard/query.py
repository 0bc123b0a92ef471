"""The dashboard's query: ?from=YYYY-MM&to=YYYY-MM&group=station|hospital."""

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from consults.dashboard.selectors import GROUPS, MAX_MONTHS, months_between
from telehealth.codes import Code
from telehealth.errors import AppError

MONTH = re.compile(r"^(20\d\d)-(0[1-9]|1[0-2])$")
MONTH_PATTERN = MONTH.pattern


@dataclass(frozen=True)
class DashboardQuery:
    first: date
    last: date
    group: str

    @property
    def months(self) -> list[date]:
        return months_between(self.first, self.last)

    def as_params(self) -> dict[str, str]:
        return {"from": f"{self.first:%Y-%m}", "to": f"{self.last:%Y-%m}", "group": self.group}


def _month(raw: str) -> date | None:
    match = MONTH.match(raw)
    if match is None:
        return None
    return date(int(match.group(1)), int(match.group(2)), 1)


def dashboard_query(params: Any) -> DashboardQuery:
    """Parse the query (a QueryDict); defaults: the last 12 months per station. 400 if bad."""
    repeated = sorted(k for k in ("from", "to", "group") if len(params.getlist(k)) > 1)
    if repeated:
        raise AppError(
            Code.INVALID_QUERY,
            _("Give each parameter once."),
            fields={k: [str(_("Give this parameter once."))] for k in repeated},
        )
    # Present but empty is an error, not the default (the API fuzzer expects a 400).
    bad = {}
    last = _month(params["to"]) if "to" in params else timezone.localdate().replace(day=1)
    if last is None:
        bad["to"] = [str(_("A month as YYYY-MM, from 2000."))]
    first = _month(params["from"]) if "from" in params else None
    if "from" in params and first is None:
        bad["from"] = [str(_("A month as YYYY-MM, from 2000."))]
    if bad:
        raise AppError(Code.INVALID_MONTH, _("The month is not valid."), fields=bad)
    assert last is not None
    if first is None:
        first = months_between(date(last.year - 1, last.month, 1), last)[1]
    if first > last:
        raise AppError(
            Code.INVALID_MONTH,
            _("The month is not valid."),
            fields={"to": [str(_("Must not be before “from”."))]},
        )
    if len(months_between(first, last)) > MAX_MONTHS:
        raise AppError(
            Code.INVALID_MONTH,
            _("The month is not valid."),
            fields={"to": [str(_("At most %(n)d months at a time.") % {"n": MAX_MONTHS})]},
        )
    group = params.get("group", "station")
    if group not in GROUPS:
        raise AppError(
            Code.INVALID_QUERY,
            _("Some fields are not valid."),
            fields={"group": [str(_("Either “station” or “hospital”."))]},
        )
    return DashboardQuery(first=first, last=last, group=group)
