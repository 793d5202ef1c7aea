"""AIService against the real stand-in HTTP server: structured answers validated, malformed and
schema-invalid answers retried once then refused, 500s and time-outs retried then refused, the
circuit breaker, the cache, tool calls and the not-configured path."""

from __future__ import annotations

import json
import socket

import pytest
from sqlalchemy import Engine

from analytics.llm import AIService, AIUnavailable, ChatReply, ToolCall
from tests.analytics.llm.conftest import Clocks, ServiceFactory, build_service
from tests.support.llm_server import ChatServer, Reply

SCHEMA = {"type": "object", "properties": {"headline": {"type": "string", "minLength": 1},
                                           "points": {"type": "array", "items": {"type": "string"}}},
          "required": ["headline", "points"], "additionalProperties": False}
GOOD = {"headline": "Sales up 12 %", "points": ["Rice sold 40 bags"]}
MSGS = [{"role": "system", "content": "You write store summaries."}, {"role": "user", "content": "Summarise."}]


def ask(svc: AIService, **kw: object):
    return svc.structured("s-001", "narrative", MSGS, schema=SCHEMA, schema_name="narrative", **kw)


def last_row(svc: AIService):
    return svc.ledger("s-001", limit=1)[0]


def test_structured_answer_is_validated_charged_and_sent_with_the_json_schema(make_service: ServiceFactory,
                                                                               llm_server: ChatServer) -> None:
    svc = make_service()
    llm_server.script(Reply.json(GOOD, prompt_tokens=120, completion_tokens=30))
    reply = ask(svc, data_version="run-1")
    assert reply.data == GOOD and reply.source == "llm" and reply.cost == 5 and reply.model == "stand-in-1"
    body = llm_server.requests[0]
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["schema"] == SCHEMA
    assert body["messages"] == MSGS and body["model"] == "gpt-4o-mini"
    row = last_row(svc)
    assert (row.feature, row.success, row.cost, row.prompt_tokens, row.completion_tokens, row.cached) == \
        ("narrative", True, 5, 120, 30, False)
    assert row.latency_ms is not None and row.latency_ms >= 0
    assert svc.account("s-001").balance == 1000 - 5


def test_a_fenced_json_answer_is_accepted(make_service: ServiceFactory, llm_server: ChatServer) -> None:
    llm_server.script(Reply.text("```json\n" + json.dumps(GOOD) + "\n```"))
    assert ask(make_service()).data == GOOD


@pytest.mark.parametrize("bad", [Reply.text("{\"headline\": \"Sales up"),  # malformed JSON
                                 Reply.json({"headline": "Sales up"}),  # valid JSON, misses "points"
                                 Reply.json({"headline": "", "points": [], "extra": 1})])  # schema-invalid
def test_an_unusable_answer_is_retried_once_with_a_correction(make_service: ServiceFactory, llm_server: ChatServer,
                                                             bad: Reply) -> None:
    svc = make_service()
    llm_server.script(bad, Reply.json(GOOD))
    assert ask(svc).data == GOOD
    assert llm_server.calls == 2
    second = llm_server.requests[1]["messages"]
    assert second[:2] == MSGS and second[-2]["role"] == "assistant"
    assert "could not be used" in second[-1]["content"]
    assert last_row(svc).cost == 5 and last_row(svc).success


@pytest.mark.parametrize("bad", [Reply.text("not json at all"), Reply.json({"headline": 3, "points": "x"})])
def test_two_unusable_answers_give_malformed_and_cost_nothing(make_service: ServiceFactory, llm_server: ChatServer,
                                                             bad: Reply) -> None:
    svc = make_service()
    llm_server.script(bad, bad, Reply.json(GOOD))
    with pytest.raises(AIUnavailable) as err:
        ask(svc)
    assert err.value.kind == "malformed" and "computed figures" in err.value.message
    assert llm_server.calls == 2  # retried exactly once
    row = last_row(svc)
    assert not row.success and row.cost == 0 and row.error.startswith("malformed")
    assert svc.account("s-001").balance == 1000


def test_500s_are_retried_with_backoff_then_fail_for_free(make_service: ServiceFactory, llm_server: ChatServer,
                                                          clocks: Clocks) -> None:
    svc = make_service(max_retries=2, backoff_s=0.5)
    llm_server.script(Reply.error(500), Reply.error(502), Reply.error(503), Reply.json(GOOD))
    with pytest.raises(AIUnavailable) as err:
        ask(svc)
    assert err.value.kind == "failed" and "HTTP 503" in err.value.message
    assert llm_server.calls == 3
    assert len(clocks.sleeps) == 2 and 0.5 <= clocks.sleeps[0] <= 0.75 and 1.0 <= clocks.sleeps[1] <= 1.5
    row = last_row(svc)
    assert not row.success and row.cost == 0 and "503" in row.error
    assert svc.account("s-001").balance == 1000


def test_a_500_then_an_answer_succeeds(make_service: ServiceFactory, llm_server: ChatServer) -> None:
    llm_server.script(Reply.error(500), Reply.json(GOOD))
    assert ask(make_service()).data == GOOD and llm_server.calls == 2


def test_429_is_retried_but_401_is_not(make_service: ServiceFactory, llm_server: ChatServer) -> None:
    svc = make_service(max_retries=1)
    llm_server.script(Reply.error(429), Reply.json(GOOD))
    assert ask(svc).data == GOOD
    llm_server.script(Reply.error(401), Reply.json(GOOD))
    with pytest.raises(AIUnavailable) as err:
        ask(svc, data_version="other")
    assert err.value.kind == "failed" and "llm.api_key" in err.value.message
    assert llm_server.calls == 3


def test_timeouts_are_retried_then_fail(make_service: ServiceFactory, llm_server: ChatServer) -> None:
    svc = make_service(timeout_s=0.3, max_retries=1)
    llm_server.script(Reply.delay(1.0, Reply.json(GOOD)), Reply.delay(1.0, Reply.json(GOOD)))
    with pytest.raises(AIUnavailable) as err:
        ask(svc)
    assert err.value.kind == "failed" and "in time" in err.value.message
    assert llm_server.calls == 2
    assert svc.account("s-001").balance == 1000 and last_row(svc).cost == 0


def test_a_body_that_is_not_a_completion_is_a_failure(make_service: ServiceFactory, llm_server: ChatServer) -> None:
    svc = make_service(max_retries=0)
    llm_server.script(Reply.garbage())
    with pytest.raises(AIUnavailable) as err:
        ask(svc)
    assert err.value.kind == "failed"


def test_breaker_opens_after_n_failures_and_recovers_after_the_cool_down(
        make_service: ServiceFactory, llm_server: ChatServer, clocks: Clocks) -> None:
    svc = make_service(max_retries=0, breaker_failures=3, breaker_reset_s=30)
    llm_server.script(*[Reply.error(500)] * 3)
    for i in range(3):
        with pytest.raises(AIUnavailable) as err:
            ask(svc, data_version=i)
        assert err.value.kind == "failed"
    assert svc.breaker.state == "open"
    llm_server.script(Reply.json(GOOD))
    with pytest.raises(AIUnavailable) as err:
        ask(svc, data_version="open")
    assert err.value.kind == "circuit_open" and "paused" in err.value.message
    assert llm_server.calls == 3  # nothing reached the server while open
    assert last_row(svc).cost == 0 and last_row(svc).error.startswith("circuit_open")

    clocks.mono += 29
    with pytest.raises(AIUnavailable):
        ask(svc, data_version="still open")
    assert llm_server.calls == 3
    clocks.mono += 2  # cool-down over: one trial call goes out
    assert svc.breaker.state == "half_open"
    assert ask(svc, data_version="trial").data == GOOD
    assert svc.breaker.state == "closed" and llm_server.calls == 4


def test_a_failed_trial_call_opens_the_breaker_again(make_service: ServiceFactory, llm_server: ChatServer,
                                                     clocks: Clocks) -> None:
    svc = make_service(max_retries=0, breaker_failures=1, breaker_reset_s=10)
    llm_server.script(Reply.error(500), Reply.error(500))
    with pytest.raises(AIUnavailable):
        ask(svc, data_version=1)
    clocks.mono += 11
    with pytest.raises(AIUnavailable) as err:
        ask(svc, data_version=2)
    assert err.value.kind == "failed" and llm_server.calls == 2
    with pytest.raises(AIUnavailable) as err:
        ask(svc, data_version=3)
    assert err.value.kind == "circuit_open" and llm_server.calls == 2


def test_cache_hit_sends_nothing_and_costs_nothing_and_a_new_data_version_misses(
        make_service: ServiceFactory, llm_server: ChatServer, clocks: Clocks) -> None:
    from datetime import timedelta

    svc = make_service(cache_ttl_s=3600)
    llm_server.script(Reply.json(GOOD))
    first = ask(svc, data_version="run-1")
    again = ask(svc, data_version="run-1")
    assert llm_server.calls == 1
    assert (again.data, again.source, again.cost, again.model) == (first.data, "cache", 0, "stand-in-1")
    row = last_row(svc)
    assert row.cached and row.success and row.cost == 0
    assert svc.account("s-001").balance == 1000 - 5

    other = {"headline": "New day", "points": []}
    llm_server.script(Reply.json(other))
    assert ask(svc, data_version="run-2").data == other and llm_server.calls == 2
    # another store never gets this store's cached answer
    llm_server.script(Reply.json(GOOD))
    svc.structured("s-002", "narrative", MSGS, schema=SCHEMA, schema_name="narrative", data_version="run-1")
    assert llm_server.calls == 3
    # expired entries are not served
    clocks.now += timedelta(seconds=3601)
    llm_server.script(Reply.json(GOOD))
    assert ask(svc, data_version="run-1").source == "llm" and llm_server.calls == 4


def test_cache_hit_is_served_even_when_the_budget_is_spent(make_service: ServiceFactory,
                                                            llm_server: ChatServer) -> None:
    svc = make_service(starting_credits=5)
    llm_server.script(Reply.json(GOOD))
    ask(svc, data_version="v")
    assert svc.account("s-001").balance == 0
    assert ask(svc, data_version="v").source == "cache"
    with pytest.raises(AIUnavailable) as err:
        ask(svc, data_version="w")
    assert err.value.kind == "budget" and llm_server.calls == 1


def test_json_object_mode_sends_the_schema_in_the_prompt(make_service: ServiceFactory,
                                                         llm_server: ChatServer) -> None:
    llm_server.script(Reply.json(GOOD))
    assert ask(make_service(structured_output="json_object")).data == GOOD
    body = llm_server.requests[0]
    assert body["response_format"] == {"type": "json_object"}
    assert '"points"' in body["messages"][-1]["content"]


def test_tool_mode_forces_a_function_call_and_validates_its_arguments(make_service: ServiceFactory,
                                                                      llm_server: ChatServer) -> None:
    svc = make_service(structured_output="tool")
    llm_server.script(Reply.tool_call("narrative", "{broken"), Reply.tool_call("narrative", GOOD))
    assert ask(svc).data == GOOD
    body = llm_server.requests[0]
    assert body["tool_choice"] == {"type": "function", "function": {"name": "narrative"}}
    assert body["tools"][0]["function"]["parameters"] == SCHEMA and "response_format" not in body
    assert llm_server.calls == 2


TOOLS = [{"type": "function", "function": {"name": "sales_by_period", "parameters": {
    "type": "object", "properties": {"start": {"type": "string"}}}}},
         {"type": "function", "function": {"name": "top_products", "parameters": {"type": "object"}}}]


def test_chat_parses_tool_calls_and_bad_arguments(make_service: ServiceFactory, llm_server: ChatServer) -> None:
    svc = make_service()
    llm_server.script(Reply.tool_calls_(("sales_by_period", {"start": "2026-11-13"}), ("top_products", "{oops")))
    reply = svc.chat("s-001", "ask", [{"role": "user", "content": "How many sold last Friday?"}], tools=TOOLS)
    assert isinstance(reply, ChatReply) and reply.content is None and reply.cost == 2
    first, second = reply.tool_calls
    assert isinstance(first, ToolCall) and first.name == "sales_by_period"
    assert first.arguments == {"start": "2026-11-13"}
    assert second.name == "top_products" and second.arguments is None and second.raw_arguments == "{oops"
    assert first.id != second.id
    assert llm_server.requests[0]["tools"] == TOOLS
    llm_server.script(Reply.text("You sold 12."))
    assert svc.chat("s-001", "ask", [{"role": "user", "content": "x"}], tools=TOOLS).content == "You sold 12."
    assert [r.cost for r in svc.ledger("s-001")] == [2, 2]


def test_chat_is_not_cached(make_service: ServiceFactory, llm_server: ChatServer) -> None:
    svc = make_service()
    llm_server.script(Reply.text("a"), Reply.text("b"))
    msgs = [{"role": "user", "content": "same"}]
    assert [svc.chat("s-001", "ask", msgs).content for _ in range(2)] == ["a", "b"]


def test_an_empty_chat_answer_is_retried_once_then_malformed(make_service: ServiceFactory,
                                                             llm_server: ChatServer) -> None:
    svc = make_service()
    llm_server.script(Reply.text(""), Reply.text(""))
    with pytest.raises(AIUnavailable) as err:
        svc.chat("s-001", "ask", [{"role": "user", "content": "x"}])
    assert err.value.kind == "malformed" and llm_server.calls == 2 and last_row(svc).cost == 0


def test_not_configured_raises_without_any_network(engine: Engine, clocks: Clocks,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: object, **kw: object) -> None:
        raise AssertionError("a socket was opened")

    svc = build_service(engine, None, clocks)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    assert not svc.configured
    for call in (lambda: ask(svc), lambda: svc.chat("s-001", "ask", MSGS), svc.check):
        with pytest.raises(AIUnavailable) as err:
            call()
        assert err.value.kind == "not_configured" and "llm.base_url" in err.value.message
    assert svc.ledger("s-001") == []


def test_unknown_feature_and_bad_schema_are_programming_errors(make_service: ServiceFactory) -> None:
    svc = make_service()
    with pytest.raises(ValueError, match="unknown AI feature"):
        svc.structured("s-001", "poetry", MSGS, schema=SCHEMA, schema_name="x")
    with pytest.raises(Exception, match="is not valid"):
        svc.structured("s-001", "narrative", MSGS, schema={"type": "nonsense"}, schema_name="x")


def test_the_api_key_is_sent_as_bearer(make_service: ServiceFactory, llm_server: ChatServer) -> None:
    llm_server.script(Reply.json(GOOD))
    ask(make_service(api_key="sk-test-123"))
    assert llm_server.headers[0]["authorization"] == "Bearer sk-test-123"
