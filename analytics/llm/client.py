"""One chat-completions client over the ``openai`` SDK, for any OpenAI-compatible endpoint
(OpenAI, xAI, Ollama, vLLM).

The SDK's own retries are off (``max_retries=0``): this module retries time-outs, connection
errors, 429 and 5xx (and bodies that are not a chat completion, as a broken proxy sends) itself,
with exponential back-off and jitter, so the circuit breaker sees every failure.  Other errors
(400, 401, 404, ...) are not retried.  Every failure ends as ``AIUnavailable``."""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import openai
from openai.types.chat import ChatCompletionMessageParam

from analytics.llm.breaker import CircuitBreaker
from analytics.llm.errors import AIUnavailable
from analytics.llm.replies import ToolCall

log = logging.getLogger(__name__)

RETRY_STATUS = frozenset({408, 409, 429}) | frozenset(range(500, 600))


@dataclass(frozen=True)
class Completion:
    """One successful HTTP round: the assistant message and its usage."""

    content: str | None
    tool_calls: list[ToolCall]
    model: str
    prompt_tokens: int
    completion_tokens: int
    latency_ms: int
    finish_reason: str | None = None
    attempts: int = 1


@dataclass
class CallStats:
    """Usage summed over the HTTP rounds of one service call (including failed rounds)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms: int = 0
    requests: int = 0
    model: str | None = None
    errors: list[str] = field(default_factory=list)

    def add(self, completion: Completion) -> None:
        self.prompt_tokens += completion.prompt_tokens
        self.completion_tokens += completion.completion_tokens
        self.model = completion.model or self.model


def parse_tool_calls(raw: Any) -> list[ToolCall]:
    """The SDK's (or a plain dict's) tool calls as :class:`ToolCall`; arguments None when not a JSON object."""
    out: list[ToolCall] = []
    for i, call in enumerate(raw or []):
        get = call.get if isinstance(call, dict) else lambda k, c=call: getattr(c, k, None)
        fn = get("function")
        fget = fn.get if isinstance(fn, dict) else lambda k, f=fn: getattr(f, k, None)
        name = str(fget("name") or "") if fn is not None else ""
        text = fget("arguments") if fn is not None else None
        text = text if isinstance(text, str) else ("" if text is None else json.dumps(text))
        try:
            args = json.loads(text) if text.strip() else {}
        except ValueError:
            args = None
        if args is not None and not isinstance(args, dict):
            args = None
        out.append(ToolCall(id=str(get("id") or f"call_{i}"), name=name, arguments=args, raw_arguments=text))
    return out


def _describe(exc: Exception) -> str:
    if isinstance(exc, openai.APITimeoutError):
        return "the AI endpoint did not answer in time"
    if isinstance(exc, openai.APIConnectionError):
        return "the AI endpoint cannot be reached"
    if isinstance(exc, openai.APIStatusError):
        if exc.status_code == 429:
            return "the AI endpoint is rate-limiting (HTTP 429)"
        if exc.status_code in (401, 403):
            return f"the AI endpoint refused the key (HTTP {exc.status_code}); check llm.api_key"
        if exc.status_code == 404:
            return "the AI endpoint does not know this URL or model (HTTP 404); check llm.base_url and llm.model"
        return f"the AI endpoint answered HTTP {exc.status_code}"
    return f"the AI endpoint sent an answer that is not a chat completion ({type(exc).__name__})"


def _retryable(exc: Exception) -> bool:
    if isinstance(exc, (openai.APITimeoutError, openai.APIConnectionError)):
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code in RETRY_STATUS
    return True  # a body that is not a completion (HTML from a proxy, ...)


class ChatClient:
    """Chat completions against one endpoint and model, with retries and a circuit breaker."""

    def __init__(self, base_url: str, model: str, api_key: str | None = None, *, timeout_s: float = 30.0,
                 max_retries: int = 2, backoff_s: float = 0.5, breaker: CircuitBreaker | None = None,
                 sleep: Callable[[float], None] = time.sleep, jitter: Callable[[], float] = random.random,
                 timer: Callable[[], float] = time.perf_counter) -> None:
        self.base_url = base_url
        self.model = model
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.breaker = breaker or CircuitBreaker()
        self._sleep = sleep
        self._jitter = jitter
        self._timer = timer
        # local servers (Ollama, vLLM) take any key; the SDK insists on one
        self._sdk = openai.OpenAI(base_url=base_url, api_key=api_key or "not-needed", timeout=timeout_s,
                                  max_retries=0)

    def backoff(self, attempt: int) -> float:
        """Seconds to wait before retry ``attempt`` (1-based): backoff_s * 2^(attempt-1), plus up to 50 % jitter."""
        return self.backoff_s * (2 ** (attempt - 1)) * (1.0 + 0.5 * self._jitter())

    def complete(self, messages: list[dict[str, Any]], *, stats: CallStats | None = None,
                 **request: Any) -> Completion:
        """One chat completion (``request``: tools, tool_choice, response_format, max_tokens,
        temperature ...).  Raises ``AIUnavailable`` ("circuit_open" or "failed")."""
        stats = stats if stats is not None else CallStats()
        attempt = 0
        while True:
            if not self.breaker.allow():
                raise AIUnavailable("circuit_open", "The AI service is paused after repeated failures "
                                    f"(retrying in {self.breaker.retry_in():.0f} s); showing computed figures.")
            started = self._timer()
            stats.requests += 1
            try:
                # the callers build the chat API's message shapes as plain dicts (tool calls included)
                sdk_messages = cast(list[ChatCompletionMessageParam], messages)
                resp = self._sdk.chat.completions.create(model=self.model, messages=sdk_messages, **request)
                if not hasattr(resp, "choices") or not resp.choices:
                    raise ValueError("no choices in the answer")
                choice = resp.choices[0]
                message = choice.message
            except Exception as exc:  # every SDK or body failure is classified below
                elapsed = int((self._timer() - started) * 1000)
                stats.latency_ms += elapsed
                reason = _describe(exc)
                stats.errors.append(reason)
                self.breaker.record_failure()
                log.warning("LLM call to %s failed (attempt %d): %s", self.base_url, attempt + 1, reason)
                if not _retryable(exc) or attempt >= self.max_retries:
                    raise AIUnavailable("failed", f"The AI service is unavailable: {reason}; "
                                        "showing computed figures.") from exc
                attempt += 1
                self._sleep(self.backoff(attempt))
                continue
            elapsed = int((self._timer() - started) * 1000)
            stats.latency_ms += elapsed
            self.breaker.record_success()
            usage = getattr(resp, "usage", None)
            completion = Completion(
                content=message.content, tool_calls=parse_tool_calls(getattr(message, "tool_calls", None)),
                model=str(getattr(resp, "model", None) or self.model),
                prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
                completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
                latency_ms=elapsed, finish_reason=getattr(choice, "finish_reason", None), attempts=attempt + 1)
            stats.add(completion)
            return completion
