"""The hub's language layer (issue 6; docs/llm.md): one OpenAI-compatible client with retries and
a circuit breaker, validated structured answers, per-store credits and ledger, a response cache,
pseudonymisation of customers and quoting of shop data.  Contract: build/LLM_CONTRACT.md."""

from analytics.llm.errors import AIUnavailable
from analytics.llm.prompts import DATA_RULES, data_block
from analytics.llm.pseudonyms import Pseudonymiser
from analytics.llm.replies import FEATURES, AIReply, ChatReply, ToolCall
from analytics.llm.service import AIService

__all__ = ["DATA_RULES", "FEATURES", "AIReply", "AIService", "AIUnavailable", "ChatReply", "Pseudonymiser",
           "ToolCall", "data_block"]
