"""/dashboard/: the admin's page with its chart, table and CSV link; 404 for everyone else."""

import re

import pytest
from django.test import Client

from clinics.models import User
from tests.conftest import Cast

pytestmark = pytest.mark.django_db


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_admin_sees_the_table_the_chart_and_the_csv_link(march: Cast) -> None:
    response = client_for(march.admin).get("/dashboard/", {"from": "2026-02", "to": "2026-03"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="dashboard-chart"' in html
    # One bar per month, each with its completed segment; the legend's swatch is a span.
    assert html.count('<rect class="s-completed"') == 2
    assert "Trạm Y tế thị trấn Tà Lùng" in html
    assert "03/2026" in html
    assert "/api/v1/dashboard.csv?from=2026-02&amp;to=2026-03&amp;group=station" in html
    assert "Bảng điều hành chương trình" in html
    assert 'style="' not in html  # the CSP allows no inline styles
    assert not re.search(r'(x|y|width|height)="[0-9.]*,', html)  # no decimal commas in SVG


def test_a_bad_month_shows_the_form_again_with_the_message(cast: Cast) -> None:
    response = client_for(cast.admin).get("/dashboard/", {"from": "2026-13"})
    assert response.status_code == 400
    assert "YYYY-MM" in response.content.decode()


def test_an_empty_form_field_means_its_default(cast: Cast) -> None:
    response = client_for(cast.admin).get("/dashboard/", {"from": "", "to": "", "group": ""})
    assert response.status_code == 200


@pytest.mark.parametrize("who", ["nurse", "outsider_nurse", "specialist", "coordinator"])
def test_the_page_is_not_found_for_everyone_else(cast: Cast, who: str) -> None:
    assert client_for(getattr(cast, who)).get("/dashboard/").status_code == 404


def test_an_anonymous_visitor_is_sent_to_log_in(cast: Cast) -> None:
    response = Client().get("/dashboard/")
    assert response.status_code == 302
    assert "/login/" in response["Location"]


@pytest.mark.parametrize(("who", "shown"), [("admin", True), ("coordinator", False)])
def test_the_home_page_links_the_dashboard_only_for_administrators(
    cast: Cast, who: str, shown: bool
) -> None:
    html = client_for(getattr(cast, who)).get("/").content.decode()
    assert ('href="/dashboard/"' in html) is shown


def test_an_admin_membership_sees_the_page(cast: Cast, admin_membership: User) -> None:
    response = client_for(admin_membership).get("/dashboard/")
    assert response.status_code == 200
    assert 'id="dashboard-scope"' not in response.content.decode()


def test_the_chart_scale_is_round(cast: Cast) -> None:
    from frontend.views_dashboard import _ceiling

    assert [_ceiling(v) for v in (0, 1, 3, 7, 12, 50, 51)] == [1, 1, 5, 10, 20, 50, 100]
