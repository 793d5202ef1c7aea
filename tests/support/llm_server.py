"""A real local HTTP server that speaks the OpenAI chat-completions API with scripted answers.

Tests point the hub's LLM client at ``server.base_url`` (``http://127.0.0.1:PORT/v1``) and script
what the "model" says, call by call::

    server.script(Reply.tool_call("sales_by_period", {"start": "2026-11-13"}),
                  Reply.text("You sold 12."))
    server.script(Reply.json({"headline": "..."}))     # a structured answer (content is JSON text)
    server.script(Reply.text("{not json"))             # a malformed structured answer
    server.script(Reply.status(500), Reply.delay(5.0, Reply.text("late")))

or answer from a function of the request body: ``server.respond_with(lambda body: Reply.text(...))``.
With nothing scripted the server answers 503 with an error body (the test forgot a reply).  Every
request body (parsed JSON) and its headers are kept in ``server.requests`` / ``server.headers``, so
tests can prove what left the hub (no customer name in any body, data passed quoted, ...).
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass(frozen=True)
class Reply:
    """One scripted answer.  ``status`` other than 200 sends an OpenAI-style error body."""

    content: str | None = None
    tool_calls: tuple[tuple[str, str], ...] = ()  # (function name, arguments JSON text)
    status: int = 200
    delay_s: float = 0.0
    prompt_tokens: int = 50
    completion_tokens: int = 20
    raw_body: bytes | None = None  # sent as is (a broken HTTP body)

    @staticmethod
    def text(content: str, **kw: Any) -> Reply:
        return Reply(content=content, **kw)

    @staticmethod
    def json(obj: Any, **kw: Any) -> Reply:
        return Reply(content=json.dumps(obj), **kw)

    @staticmethod
    def tool_call(name: str, arguments: dict[str, Any] | str, **kw: Any) -> Reply:
        args = arguments if isinstance(arguments, str) else json.dumps(arguments)
        return Reply(tool_calls=((name, args),), **kw)

    @staticmethod
    def tool_calls_(*calls: tuple[str, dict[str, Any] | str], **kw: Any) -> Reply:
        return Reply(tool_calls=tuple((n, a if isinstance(a, str) else json.dumps(a)) for n, a in calls), **kw)

    @staticmethod
    def error(status: int = 500) -> Reply:
        return Reply(status=status)

    @staticmethod
    def garbage() -> Reply:
        return Reply(raw_body=b"<html>bad gateway</html>")

    @staticmethod
    def delay(seconds: float, then: Reply) -> Reply:
        return Reply(content=then.content, tool_calls=then.tool_calls, status=then.status, delay_s=seconds,
                     prompt_tokens=then.prompt_tokens, completion_tokens=then.completion_tokens)


@dataclass
class ChatServer:
    """The stand-in endpoint.  ``start()`` binds a free loopback port; ``stop()`` closes it."""

    model: str = "stand-in-1"
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    _queue: deque[Reply] = field(default_factory=deque)
    _responder: Callable[[dict[str, Any]], Reply] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _httpd: ThreadingHTTPServer | None = None
    _counter: int = 0

    @property
    def base_url(self) -> str:
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    @property
    def calls(self) -> int:
        return len(self.requests)

    def script(self, *replies: Reply) -> ChatServer:
        with self._lock:
            self._queue.extend(replies)
        return self

    def respond_with(self, fn: Callable[[dict[str, Any]], Reply] | None) -> ChatServer:
        self._responder = fn
        return self

    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    def bodies_text(self) -> str:
        """Every request body as one string (for "this never left the hub" checks)."""
        return "\n".join(json.dumps(r, ensure_ascii=False) for r in self.requests)

    def _next(self, body: dict[str, Any]) -> Reply | None:
        with self._lock:
            self.requests.append(body)
            if self._queue:
                return self._queue.popleft()
        return self._responder(body) if self._responder else None

    def _completion(self, reply: Reply) -> dict[str, Any]:
        self._counter += 1
        message: dict[str, Any] = {"role": "assistant", "content": reply.content}
        finish = "stop"
        if reply.tool_calls:
            message["tool_calls"] = [{"id": f"call_{self._counter}_{i}", "type": "function",
                                      "function": {"name": name, "arguments": args}}
                                     for i, (name, args) in enumerate(reply.tool_calls)]
            finish = "tool_calls"
        return {"id": f"chatcmpl-{self._counter}", "object": "chat.completion", "created": int(time.time()),
                "model": self.model, "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                "usage": {"prompt_tokens": reply.prompt_tokens, "completion_tokens": reply.completion_tokens,
                          "total_tokens": reply.prompt_tokens + reply.completion_tokens}}

    def start(self) -> ChatServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def _send(self, status: int, payload: bytes, ctype: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                try:
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def do_GET(self) -> None:
                if self.path.rstrip("/").endswith("/models"):
                    self._send(200, json.dumps({"object": "list", "data": [
                        {"id": server.model, "object": "model", "owned_by": "tests"}]}).encode())
                else:
                    self._send(404, b'{"error": {"message": "not found"}}')

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._send(404, b'{"error": {"message": "not found"}}')
                    return
                try:
                    body = json.loads(raw)
                except ValueError:
                    self._send(400, b'{"error": {"message": "request body is not JSON"}}')
                    return
                server.headers.append({k.lower(): v for k, v in self.headers.items()})
                reply = server._next(body)
                if reply is None:
                    self._send(503, b'{"error": {"message": "stand-in server: no reply scripted",'
                                    b' "type": "server_error"}}')
                    return
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                if reply.raw_body is not None:
                    self._send(200, reply.raw_body, "text/html")
                elif reply.status != 200:
                    self._send(reply.status, json.dumps({"error": {
                        "message": f"scripted error {reply.status}", "type": "server_error"}}).encode())
                else:
                    self._send(200, json.dumps(server._completion(reply)).encode())

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, name="llm-stand-in", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None


@pytest.fixture
def llm_server() -> Iterator[ChatServer]:
    """A started stand-in chat-completions server (import this fixture by name in a conftest)."""
    server = ChatServer().start()
    try:
        yield server
    finally:
        server.stop()
