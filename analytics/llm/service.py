"""AIService: the one door features use to the language model.

``structured()`` = one billed, cached, validated JSON answer; ``chat()`` = one billed chat round
with tools.  Order of a call: configured? -> the request is built and checked for real customer
data (privacy) -> cache (structured only) -> credits reserved (budget) -> breaker and HTTP with
retries -> answer parsed and validated (one corrective retry) -> ledger row settled -> pseudonyms
restored.  Every failure is ``AIUnavailable``; a failed call costs nothing."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jsonschema
from sqlalchemy import Engine

from analytics.llm.breaker import CircuitBreaker
from analytics.llm.cache import ResponseCache, cache_key
from analytics.llm.client import CallStats, ChatClient, Completion
from analytics.llm.credits import Account, Credits, LedgerRow, Reservation, utc_now
from analytics.llm.errors import AIUnavailable
from analytics.llm.pseudonyms import Pseudonymiser
from analytics.llm.replies import FEATURES, AIReply, ChatReply, ToolCall

log = logging.getLogger(__name__)

NOT_CONFIGURED = "No AI endpoint is configured (llm.base_url); showing computed figures."
_FENCE_RE = re.compile(r"^\s*```(?:json|JSON)?\s*\n?(.*?)\n?```\s*$", re.DOTALL)
_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class CheckResult:
    base_url: str
    model: str
    latency_ms: int
    reply: str | None


class _Invalid(Exception):
    """A structured answer that is not JSON or does not match the schema."""

    def __init__(self, problem: str, raw: str) -> None:
        super().__init__(problem)
        self.problem = problem
        self.raw = raw


def _body_text(messages: Any, request: dict[str, Any]) -> str:
    return json.dumps({"messages": messages, **request}, ensure_ascii=False, default=str)


def parse_json_answer(text: str | None) -> dict[str, Any]:
    """The JSON object in a model's answer (a ```json fence around it is tolerated)."""
    if text is None or not text.strip():
        raise ValueError("the answer was empty")
    fenced = _FENCE_RE.match(text)
    body = fenced.group(1) if fenced else text
    try:
        value = json.loads(body)
    except json.JSONDecodeError as exc:
        raise ValueError(f"the answer was not valid JSON ({exc.msg} at position {exc.pos})") from None
    if not isinstance(value, dict):
        raise ValueError("the answer was JSON but not an object")
    return value


class AIService:
    """Build with :meth:`from_config`.  One instance per process (its breaker is shared by its calls)."""

    def __init__(self, engine: Engine | None, *, client: ChatClient | None, credits: Credits | None,
                 cache: ResponseCache | None, structured_output: str = "json_schema", max_tokens: int = 1200,
                 temperature: float = 0.2) -> None:
        self.engine = engine
        self.client = client
        self.credits = credits
        self.cache = cache
        self.structured_output = structured_output
        self.max_tokens = max_tokens
        self.temperature = temperature

    @classmethod
    def from_config(cls, engine: Engine | None, cfg: Any, *, clock: Callable[[], datetime] | None = None,
                    monotonic: Callable[[], float] | None = None,
                    sleep: Callable[[float], None] | None = None) -> AIService:
        """From ``cfg.llm`` (a ``TillsightConfig``, or its ``LlmConfig`` section itself).
        ``clock`` (UTC now, for caps and the cache), ``monotonic`` (the breaker) and ``sleep``
        (back-off) are for tests."""
        llm = getattr(cfg, "llm", cfg)
        clock = clock or utc_now
        client = None
        if llm.base_url:
            breaker = CircuitBreaker(llm.breaker_failures, llm.breaker_reset_s, clock=monotonic or time.monotonic)
            key = llm.api_key.get_secret_value() if llm.api_key is not None else None
            client = ChatClient(llm.base_url, llm.model, key, timeout_s=llm.timeout_s, max_retries=llm.max_retries,
                                backoff_s=llm.backoff_s, breaker=breaker, sleep=sleep or time.sleep)
        credits = cache = None
        if engine is not None:
            credits = Credits(engine, llm.prices, starting_credits=llm.starting_credits, daily_cap=llm.daily_cap,
                              monthly_cap=llm.monthly_cap, clock=clock,
                              # a structured call may take two rounds, each with its retries
                              stale_after_s=max(900.0, 4 * llm.timeout_s * (llm.max_retries + 1)))
            cache = ResponseCache(engine, llm.cache_ttl_s, clock=clock)
        return cls(engine, client=client, credits=credits, cache=cache, structured_output=llm.structured_output,
                   max_tokens=llm.max_tokens, temperature=llm.temperature)

    # -- state ------------------------------------------------------------------------------------
    @property
    def configured(self) -> bool:
        return self.client is not None and self.credits is not None

    @property
    def model(self) -> str | None:
        return self.client.model if self.client else None

    @property
    def breaker(self) -> CircuitBreaker | None:
        return self.client.breaker if self.client else None

    def account(self, store_id: str) -> Account:
        return self._credits().account(store_id)

    def ledger(self, store_id: str, limit: int = 500) -> list[LedgerRow]:
        return self._credits().ledger(store_id, limit=limit)

    def _credits(self) -> Credits:
        if self.credits is None:
            raise RuntimeError("this AIService has no hub database")
        return self.credits

    def _require(self) -> ChatClient:
        if self.client is None or self.credits is None:
            raise AIUnavailable("not_configured", NOT_CONFIGURED)
        return self.client

    # -- structured answers -------------------------------------------------------------------------
    def structured(self, store_id: str, feature: str, messages: Sequence[dict[str, Any]], *,
                   schema: dict[str, Any], schema_name: str, pseudonymiser: Pseudonymiser | None = None,
                   data_version: Any = None) -> AIReply:
        """One validated JSON answer (see the module doc).  Raises ``AIUnavailable``."""
        _check_feature(feature)
        if not _NAME_RE.fullmatch(schema_name):
            raise ValueError(f"schema_name {schema_name!r}: use 1-64 letters, digits, '_' or '-'")
        jsonschema.Draft202012Validator.check_schema(schema)
        client = self._require()
        credits = self._credits()
        msgs, request = self._structured_request(list(messages), schema, schema_name)
        self._privacy(store_id, feature, msgs, request, pseudonymiser)

        key = cache_key(store_id=store_id, feature=feature, model=client.model, messages=msgs, schema=schema,
                        mode=self.structured_output, data_version=data_version)
        if self.cache is not None:
            hit = self.cache.get(key)
            if hit is not None and not _schema_errors(schema, hit[0]):
                credits.record(store_id, feature, model=hit[1], success=True, cached=True, latency_ms=0)
                data = pseudonymiser.restore(hit[0]) if pseudonymiser else hit[0]
                return AIReply(data=data, source="cache", cost=0, model=hit[1])

        reservation = credits.reserve(store_id, feature, client.model)
        stats = CallStats()
        try:
            data, model = self._structured_rounds(client, msgs, request, schema, schema_name, stats,
                                                  store_id, feature, pseudonymiser)
        except AIUnavailable as exc:
            self._settle(reservation, stats, success=False, error=f"{exc.kind}: {exc.message}")
            raise
        except Exception as exc:
            self._settle(reservation, stats, success=False, error=f"failed: {type(exc).__name__}: {exc}")
            raise
        self._settle(reservation, stats, success=True, error=None)
        if self.cache is not None:
            self.cache.put(key, store_id=store_id, feature=feature, model=model, data=data)
        restored = pseudonymiser.restore(data) if pseudonymiser else data
        return AIReply(data=restored, source="llm", cost=reservation.cost, model=model)

    def _structured_request(self, msgs: list[dict[str, Any]], schema: dict[str, Any],
                            name: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        request: dict[str, Any] = {"max_tokens": self.max_tokens, "temperature": self.temperature}
        mode = self.structured_output
        if mode == "json_schema":
            request["response_format"] = {"type": "json_schema",
                                          "json_schema": {"name": name, "schema": schema, "strict": False}}
        elif mode == "json_object":
            request["response_format"] = {"type": "json_object"}
            msgs = [*msgs, {"role": "system", "content": "Answer with one JSON object (no other text) that "
                            f"matches this JSON schema:\n{json.dumps(schema, ensure_ascii=False)}"}]
        else:  # tool
            request["tools"] = [{"type": "function", "function": {
                "name": name, "description": "Give the answer by calling this function.", "parameters": schema}}]
            request["tool_choice"] = {"type": "function", "function": {"name": name}}
        return msgs, request

    def _structured_rounds(self, client: ChatClient, msgs: list[dict[str, Any]], request: dict[str, Any],
                           schema: dict[str, Any], name: str, stats: CallStats, store_id: str, feature: str,
                           pseudonymiser: Pseudonymiser | None) -> tuple[dict[str, Any], str]:
        problem = ""
        for round_ in range(2):
            completion = client.complete(msgs, stats=stats, **request)
            try:
                return self._extract(completion, schema, name), completion.model
            except _Invalid as bad:
                problem = bad.problem
                log.warning("LLM answer for %s/%s unusable (round %d): %s", store_id, feature, round_ + 1, problem)
                stats.errors.append(problem)
                msgs = [*msgs, {"role": "assistant", "content": bad.raw[:8000]},
                        {"role": "user", "content": f"Your previous answer could not be used: {problem}. "
                         "Reply again with only one JSON object that matches the required schema."}]
                self._privacy(store_id, feature, msgs, request, pseudonymiser, record=False)
        raise AIUnavailable("malformed", f"The AI answer was unusable twice ({problem}); showing computed figures.")

    def _extract(self, completion: Completion, schema: dict[str, Any], name: str) -> dict[str, Any]:
        if self.structured_output == "tool":
            call = next((c for c in completion.tool_calls if c.name == name), None)
            if call is None:
                raw = completion.content or ""
                if not completion.tool_calls and raw.strip():
                    try:  # some servers answer in content even when a tool call is forced
                        data = parse_json_answer(raw)
                    except ValueError as exc:
                        raise _Invalid(f"no call of the function {name} and {exc}", raw) from None
                else:
                    raise _Invalid(f"the answer did not call the function {name}", raw)
            elif call.arguments is None:
                raise _Invalid("the function arguments were not a valid JSON object", call.raw_arguments)
            else:
                data, raw = call.arguments, call.raw_arguments
        else:
            raw = completion.content or ""
            try:
                data = parse_json_answer(completion.content)
            except ValueError as exc:
                raise _Invalid(str(exc), raw) from None
        errors = _schema_errors(schema, data)
        if errors:
            raise _Invalid("the answer did not match the schema: " + "; ".join(errors[:3]), raw)
        return data

    # -- chat rounds ----------------------------------------------------------------------------------
    def chat(self, store_id: str, feature: str, messages: Sequence[dict[str, Any]], *,
             tools: Sequence[dict[str, Any]] | None = None, pseudonymiser: Pseudonymiser | None = None,
             tool_choice: Any = None) -> ChatReply:
        """One billed chat round (no cache).  Content and tool-call arguments come back restored."""
        _check_feature(feature)
        client = self._require()
        credits = self._credits()
        msgs = list(messages)
        request: dict[str, Any] = {"max_tokens": self.max_tokens, "temperature": self.temperature}
        if tools:
            request["tools"] = list(tools)
            if tool_choice is not None:
                request["tool_choice"] = tool_choice
        self._privacy(store_id, feature, msgs, request, pseudonymiser)
        reservation = credits.reserve(store_id, feature, client.model)
        stats = CallStats()
        try:
            completion = client.complete(msgs, stats=stats, **request)
            if not completion.tool_calls and not (completion.content or "").strip():
                stats.errors.append("empty answer")
                msgs = [*msgs, {"role": "user", "content": "Your previous answer was empty. Please answer."}]
                completion = client.complete(msgs, stats=stats, **request)
                if not completion.tool_calls and not (completion.content or "").strip():
                    raise AIUnavailable("malformed", "The AI answer was empty twice; showing computed figures.")
        except AIUnavailable as exc:
            self._settle(reservation, stats, success=False, error=f"{exc.kind}: {exc.message}")
            raise
        except Exception as exc:
            self._settle(reservation, stats, success=False, error=f"failed: {type(exc).__name__}: {exc}")
            raise
        self._settle(reservation, stats, success=True, error=None)
        restore = pseudonymiser.restore if pseudonymiser else (lambda v: v)
        calls = [ToolCall(id=c.id, name=c.name, arguments=restore(c.arguments) if c.arguments is not None else None,
                          raw_arguments=c.raw_arguments) for c in completion.tool_calls]
        return ChatReply(content=restore(completion.content) if completion.content is not None else None,
                         tool_calls=calls, cost=reservation.cost, model=completion.model,
                         finish_reason=completion.finish_reason)

    # -- the endpoint check (``tillsight hub ai check``) -------------------------------------------------
    def check(self) -> CheckResult:
        """One tiny unbilled call to the endpoint; raises ``AIUnavailable`` when it cannot answer."""
        if self.client is None:
            raise AIUnavailable("not_configured", NOT_CONFIGURED)
        started = time.perf_counter()
        completion = self.client.complete([{"role": "user", "content": "Reply with the single word OK."}],
                                          max_tokens=5, temperature=0)
        return CheckResult(self.client.base_url, completion.model, int((time.perf_counter() - started) * 1000),
                           completion.content)

    # -- internals ------------------------------------------------------------------------------------
    def _privacy(self, store_id: str, feature: str, msgs: Any, request: dict[str, Any],
                 pseudonymiser: Pseudonymiser | None, record: bool = True) -> None:
        if pseudonymiser is None or not len(pseudonymiser):
            return
        leaks = pseudonymiser.leaks(_body_text(msgs, request))
        if not leaks:
            return
        message = ("Customer details were about to leave the hub, so nothing was sent to the AI "
                   f"({', '.join(leaks[:5])}); showing computed figures.")
        log.error("refused an AI request for %s/%s: real customer data in the body (%s)", store_id, feature,
                  ", ".join(leaks))
        if record and self.credits is not None:
            self.credits.record(store_id, feature, model=self.model, success=False, error=f"privacy: {message}")
        raise AIUnavailable("privacy", message)

    def _settle(self, reservation: Reservation, stats: CallStats, *, success: bool, error: str | None) -> None:
        credits = self._credits()
        try:
            credits.settle(reservation, success=success, model=stats.model, prompt_tokens=stats.prompt_tokens,
                           completion_tokens=stats.completion_tokens, latency_ms=stats.latency_ms,
                           error=error if not success else ("; ".join(stats.errors) or None))
        except Exception:  # the answer (or the original failure) matters more than the ledger row
            log.exception("could not settle AI ledger row %s", reservation.entry_id)


def _check_feature(feature: str) -> None:
    if feature not in FEATURES:
        raise ValueError(f"unknown AI feature {feature!r} (one of {', '.join(FEATURES)})")


def _schema_errors(schema: dict[str, Any], data: Any) -> list[str]:
    validator = jsonschema.Draft202012Validator(schema)
    out = []
    for err in sorted(validator.iter_errors(data), key=lambda e: list(e.path)):
        where = "/".join(str(p) for p in err.path) or "(top)"
        out.append(f"{where}: {err.message[:200]}")
    return out
