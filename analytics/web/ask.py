"""The "Ask" tab of a store: a chat box that answers questions about the store's business, with the
store's question history.  The answer comes from the language layer's tool loop when the hub has
an AI configured (``hub().ai``), otherwise (or when the AI fails) from the rule-based parser,
marked "computed (no AI)".  Every tool runs for the store in the URL, which ``require_store``
has checked the user may see; nothing the model says can change the store.

| route | role | answer |
|---|---|---|
| ``GET /stores/<id>/ask`` | viewer | the page |
| ``POST /api/stores/<id>/ask`` ``{"question"}`` | viewer | the answer: text, table, follow_ups, source, note |
| ``GET /api/stores/<id>/ask/history?limit=50&mine=1`` | viewer | ``{"messages": [...]}`` oldest first |
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, jsonify, render_template, request

from analytics.assistant import history as chat_history
from analytics.assistant.rules import examples
from analytics.assistant.service import QuestionError, answer_question
from analytics.assistant.tools import AskStore, ToolContext
from analytics.web.context import hub, now
from analytics.web.pages import NavItem, Page
from analytics.web.params import int_arg
from analytics.web.queries import stores as sq
from analytics.web.security import current_user, require
from analytics.web.tenancy import current_scope, require_store
from i18n import current_language
from i18n import gettext as _

blueprint = Blueprint("ask", __name__)


def _info(store_id: str) -> sq.StoreInfo:
    require_store(store_id)  # 404 unless the user may see the store
    with hub().connect() as conn:
        info = sq.store_info(conn, current_scope(), store_id)
    if info is None:
        abort(404, description=_("no store %(store)s", store=repr(store_id)))
    return info


def _credit() -> bool:
    """Whether the user may see the store's credit figures (as on the Credit tab: owners and operators)."""
    user = current_user()
    return bool(user is not None and user.at_least("owner"))


def _ai_on() -> bool:
    ai = getattr(hub(), "ai", None)
    return bool(ai is not None and getattr(ai, "configured", False))


@blueprint.get("/stores/<store_id>/ask")
@require("viewer")
def ask_page(store_id: str) -> str:
    info = _info(store_id)
    # examples about this store's own products (and its credit, for who may see it)
    ctx = ToolContext(hub().engine, AskStore.load(hub().engine, info.store_id), now(), credit=_credit(),
                      language=current_language())
    return render_template("ask.html", info=info, ai_on=_ai_on(), examples=examples(ctx))


@blueprint.post("/api/stores/<store_id>/ask")
@require("viewer")
def api_ask(store_id: str) -> tuple[Response, int] | Response:
    info = _info(store_id)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return jsonify(error=_('send JSON {"question": "..."}')), 400
    user = current_user()
    try:
        answer, row_id = answer_question(hub().engine, info.store_id, body.get("question"), getattr(hub(), "ai", None),
                                         now(), user_id=user.user_id if user else None, credit=_credit(),
                                         language=current_language())
    except QuestionError as exc:
        return jsonify(error=str(exc)), 400
    return jsonify({"id": row_id, "user_id": user.user_id if user else None, **answer.as_dict()})


@blueprint.get("/api/stores/<store_id>/ask/history")
@require("viewer")
def api_history(store_id: str) -> Response:
    info = _info(store_id)
    limit = int_arg("limit", 1, chat_history.MAX_HISTORY, 50)
    user = current_user()
    mine = request.args.get("mine") in ("1", "true", "yes")
    rows = chat_history.recent(hub().engine, info.store_id, limit=limit,
                               user_id=(user.user_id if user else "") if mine else None)
    return jsonify({"store_id": info.store_id, "ai": _ai_on(), "messages": [r.as_dict() for r in rows]})


page = Page(blueprint, nav=(NavItem("Ask", "ask.ask_page", "viewer", per_store=True, order=150),))
