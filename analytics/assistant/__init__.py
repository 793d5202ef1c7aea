"""Ask a question about the business (issue 6, docs/ask.md): store-scoped query tools, date phrases
in the store's time zone, fuzzy product names, a rule-based parser, and the tool-calling loop over
the hub's language layer with the rule-based answer as its fallback."""

from analytics.assistant.answer import Answer, Column, Table
from analytics.assistant.margins import margin_tools
from analytics.assistant.tools import TOOLS, AskStore, ToolContext, ToolResult, run_tool, tool_specs

# the margin tools join the one registry (the package runs this before any of its modules is used)
TOOLS.update((tool.name, tool) for tool in margin_tools())

__all__ = ["TOOLS", "Answer", "AskStore", "Column", "Table", "ToolContext", "ToolResult", "run_tool", "tool_specs"]
