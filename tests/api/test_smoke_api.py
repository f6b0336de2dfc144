"""A first walk through the API: register an app, get a token, post, read it back."""

from __future__ import annotations


async def test_post_and_read_home(api_users):
    ana = await api_users("ana")
    bob = await api_users("bob")
    assert ana.id
    follow = await bob.post(f"/api/v1/accounts/{ana.id}/follow")
    assert follow.status_code == 200, follow.text
    assert follow.json()["following"] is True
    status = await ana.status("hello #world @bob")
    assert status["account"]["username"] == "ana"
    assert status["mentions"][0]["username"] == "bob"
    home = await bob.get("/api/v1/timelines/home")
    assert home.status_code == 200, home.text
    assert [s["id"] for s in home.json()] == [status["id"]]
    tag = await bob.get("/api/v1/timelines/tag/world")
    assert [s["id"] for s in tag.json()] == [status["id"]]
    notes = await bob.get("/api/v1/notifications")
    assert [n["type"] for n in notes.json()] == ["mention"], notes.text
    fav = await bob.post(f"/api/v1/statuses/{status['id']}/favourite")
    assert fav.json()["favourited"] is True, fav.text
    reblog = await bob.post(f"/api/v1/statuses/{status['id']}/reblog")
    assert reblog.json()["reblog"]["id"] == status["id"], reblog.text
    search = await bob.get("/api/v2/search", params={"q": "an"})
    assert [a["username"] for a in search.json()["accounts"]] == ["ana"]
    ctx = await ana.get(f"/api/v1/statuses/{status['id']}/context")
    assert ctx.json() == {"ancestors": [], "descendants": []}
    gone = await ana.delete(f"/api/v1/statuses/{status['id']}")
    assert gone.json()["text"] == "hello #world @bob"
