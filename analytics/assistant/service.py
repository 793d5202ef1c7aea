"""One question end to end, as the web page and the command line ask it: check the question, build
the store's tool context, answer (AI or rules), keep it in the store's history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from analytics.assistant import history as chat_history
from analytics.assistant.answer import Answer
from analytics.assistant.loop import MAX_QUESTION, ask
from analytics.assistant.tools import AskStore, ToolContext
from i18n import gettext as _


class QuestionError(ValueError):
    """A question that cannot be asked (empty, too long); the message says why."""


def check_question(question: Any) -> str:
    if not isinstance(question, str) or not question.strip():
        raise QuestionError(_("question: type a question, e.g. “%(example)s”", example=_("What were sales yesterday?")))
    text = " ".join(question.split())
    if len(text) > MAX_QUESTION:
        raise QuestionError(_("question: at most %(most)d characters (this one has %(count)d)", most=MAX_QUESTION,
                              count=len(text)))
    return text


def answer_question(engine: Engine, store_id: str, question: object, ai: Any | None, now: datetime,
                    user_id: str | None = None, keep: bool = True, credit: bool = False,
                    language: str | None = None) -> tuple[Answer, int | None]:
    """The answer to ``question`` about ``store_id`` (which the caller has checked the user may
    see), and the id of its history row (None when ``keep`` is False).  ``credit``: the asker may see
    the store's credit figures (owners and operators; they name people).  ``language``: the asker's
    (their page's); a question in another language is answered in its own."""
    text = check_question(question)
    ctx = ToolContext(engine, AskStore.load(engine, store_id), now, credit=credit, language=language)
    past = chat_history.recent(engine, store_id, limit=3, user_id=user_id) if user_id is not None else []
    answer = ask(text, ctx, ai, history=past)
    row_id = chat_history.save(engine, store_id, user_id, answer, now) if keep else None
    return answer, row_id
