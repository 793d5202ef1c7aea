"""The hub's insights, once the sync agent stored them, appear on the owner's dashboard."""

from __future__ import annotations

import json


def test_dashboard_shows_the_hubs_insights_when_present(web_context, login_as, store):
    web_context.insights = store.insights.latest
    owner = login_as("owner")
    assert owner.get("/api/insights").status_code == 200
    before = owner.get("/dashboard").get_data(as_text=True)
    assert "Weekend demand for rice is rising" not in before
    store.insights.save(json.dumps({"generated_at": "2026-11-21T06:00:00Z", "source": "llm",
                                    "headline": "Weekend demand for rice is rising",
                                    "items": [{"title": "Reorder", "text": "Order 30 bags of Arroz La Garza 5 lb"}]}))
    page = owner.get("/dashboard").get_data(as_text=True)
    assert "Weekend demand for rice is rising" in page and "Order 30 bags" in page
    api = owner.get("/api/insights").get_json()
    assert "Weekend demand for rice is rising" in json.dumps(api)
