async def test_public_page_renders(people):
    visitor = await people()
    response = await visitor.get("/")
    assert response.status_code == 200
    assert "Twoorl" in response.text
