"""Generic visibility checks: a model's test supplies the objects and URLs, and gets the
anonymous, not-permitted, in-scope and out-of-scope cases on pages and API for free."""

from dataclasses import dataclass

from django.test import Client

ALLOWED = "allowed"  # the object is visible
HIDDEN = "hidden"  # the role may use the page but the object is outside its view: 404
FORBIDDEN = "forbidden"  # the role may not use the section: lists 403, object URLs 404


@dataclass
class Surface:
    """Where an object can be seen: list page, detail page, API list, API detail."""

    list_url: str
    detail_url: str
    api_list_url: str
    api_detail_url: str
    marker: str  # text that identifies the object in a list page
    api_id: int


def check_visibility(user, surface: Surface, expected: str):
    """Assert what ``user`` sees of one object everywhere it could appear."""
    client = Client()
    if user is not None:
        client.force_login(user)
    who = user.username if user is not None else "anonymous"
    list_response = client.get(surface.list_url)
    detail_response = client.get(surface.detail_url)
    api_list = client.get(surface.api_list_url, {"page_size": 200})
    api_detail = client.get(surface.api_detail_url)
    if user is None:
        assert list_response.status_code == 302, who
        assert "/login/" in list_response["Location"], who
        assert detail_response.status_code == 302, who
        assert api_list.status_code in (401, 403), who
        assert api_detail.status_code in (401, 403), who
        return
    if expected == FORBIDDEN:
        # The section is not for this role: its lists say so (403); an object's URL reveals
        # nothing (404, as for any object outside one's view).
        assert list_response.status_code == 403, f"{who}: list {list_response.status_code}"
        assert detail_response.status_code == 404, f"{who}: detail {detail_response.status_code}"
        assert api_list.status_code == 403, f"{who}: api list {api_list.status_code}"
        assert api_detail.status_code == 404, f"{who}: api detail {api_detail.status_code}"
        return
    assert list_response.status_code == 200, f"{who}: list {list_response.status_code}"
    assert api_list.status_code == 200, f"{who}: api list {api_list.status_code}"
    listed = surface.marker in list_response.content.decode()
    api_ids = {row["id"] for row in api_list.json()["results"]}
    if expected == ALLOWED:
        assert listed, f"{who} should see {surface.marker} in the list"
        assert surface.api_id in api_ids, f"{who} should see {surface.marker} in the API list"
        assert detail_response.status_code == 200, f"{who}: detail {detail_response.status_code}"
        assert api_detail.status_code == 200, f"{who}: api detail {api_detail.status_code}"
    else:
        assert not listed, f"{who} must not see {surface.marker} in the list"
        assert surface.api_id not in api_ids, f"{who} must not see {surface.marker} via the API"
        assert detail_response.status_code == 404, f"{who}: detail {detail_response.status_code}"
        assert api_detail.status_code == 404, f"{who}: api detail {api_detail.status_code}"
