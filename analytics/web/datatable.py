"""One description of a table serves its HTML, its JSON API, its CSV and its Excel export.

A page declares a :class:`TableSpec` (columns with a key, a label and a kind), gets its rows from a
query function (dicts or dataclasses), and then:

* in a template: ``{{ data_table(SPEC, rows, export=url_for('x.api_y')) }}`` (``macros.html``)
  renders the table with CSV / Excel / JSON links;
* in the API view: ``return table_response(SPEC, rows)`` answers ``?format=json`` (default),
  ``csv`` or ``xlsx`` from the same rows.

Labels and titles are English msgids marked with ``N_()`` where the spec is declared; they are
translated into the request's language where shown (``Col.text``, ``TableSpec.heading``), never with
Jinja's ``_()`` (which %-formats, and labels such as "80% low" carry a literal percent sign).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask import Response, jsonify, request, url_for
from markupsafe import Markup, escape
from werkzeug.exceptions import BadRequest

from analytics.web import formatting as fmt
from analytics.web.exports import csv_bytes, xlsx_bytes
from i18n import N_, format_decimal, format_number, gettext

KINDS = ("text", "int", "num", "money", "time", "ago", "bool", "pct", "bytes", "json", "list", "pill", "code")
FORMATS = ("json", "csv", "xlsx")
# The values the pages' "pill" columns hold (keys of their Col.pills), marked so that the pill's text is
# translated where shown; the value itself (API, exports, CSS choice) stays as stored.
PILL_WORDS = (
    N_("call"), N_("topup"), N_("caps"), N_("low"), N_("medium"), N_("high"), N_("online"), N_("offline"),
    N_("never seen"), N_("active"), N_("completed"), N_("paused"), N_("stopped"), N_("rolled_back"),
    N_("superseded"), N_("succeeded"), N_("failed"), N_("refused"), N_("waiting"), N_("published"), N_("done"),
    N_("current"), N_("pending"), N_("order now"), N_("enough stock"), N_("stock unknown"), N_("till"),
    N_("imported"), N_("assumed"), N_("no cost"), N_("actual"), N_("forecast"), N_("refunded"), N_("voided"),
    N_("anomaly"), N_("health"), N_("skipped"), N_("running"), N_("sending"), N_("sent"), N_("open"),
    N_("acknowledged"), N_("cleared"),
)  # tests/analytics/web/test_pill_words.py fails on a table's pill value missing here or untranslated
MAX_EXPORT_ROWS = 200_000


@dataclass(frozen=True)
class Link:
    """Render the cell as a link to ``endpoint``; ``args`` maps URL parameters to row keys."""

    endpoint: str
    args: Mapping[str, str]


@dataclass(frozen=True)
class Col:
    key: str
    label: str
    kind: str = "text"
    link: Link | None = None
    pills: Mapping[str, str] = field(default_factory=dict)  # kind "pill": value -> ok | warn | bad
    currency_key: str = "currency"  # kind "money": the row key holding the currency
    css: str = ""
    html: bool = True  # False: in the JSON API and the exports only, not in the page's table

    @property
    def text(self) -> str:
        """The label in the current language."""
        return gettext(self.label)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"column {self.key}: unknown kind {self.kind!r} (one of {', '.join(KINDS)})")


@dataclass(frozen=True)
class TableSpec:
    name: str  # file name of exports, HTML id of the table
    title: str
    columns: tuple[Col, ...]

    @property
    def heading(self) -> str:
        """The title in the current language."""
        return gettext(self.title)

    @property
    def keys(self) -> list[str]:
        return [c.key for c in self.columns]

    @property
    def html_columns(self) -> tuple[Col, ...]:
        return tuple(c for c in self.columns if c.html)

    def records(self, rows: Iterable[Any]) -> list[dict[str, Any]]:
        """The rows as JSON-ready dicts holding exactly this table's columns."""
        keys = self.keys
        out = []
        for row in rows:
            data = as_dict(row)
            out.append({k: data.get(k) for k in keys})
        return out

    def describe(self) -> list[dict[str, str]]:
        return [{"key": c.key, "label": c.text, "kind": c.kind} for c in self.columns]


def as_dict(row: Any) -> dict[str, Any]:
    if dataclasses.is_dataclass(row) and not isinstance(row, type):
        return dataclasses.asdict(row)
    if isinstance(row, Mapping):
        return dict(row)
    raise TypeError(f"a table row must be a dict or a dataclass, not {type(row).__name__}")


def requested_format() -> str:
    value = (request.args.get("format") or "json").lower()
    if value not in FORMATS:
        raise BadRequest(gettext("format must be one of %(choices)s", choices=", ".join(FORMATS)))
    return value


def table_response(spec: TableSpec, rows: Sequence[Any], filename: str | None = None,
                   **extra: Any) -> Response:
    """The API answer for one table: JSON ``{table, title, columns, rows, **extra}``, or the
    same rows as a CSV / Excel download (``?format=csv`` / ``?format=xlsx``)."""
    kind = requested_format()
    records = spec.records(rows[:MAX_EXPORT_ROWS])
    if kind == "json":
        return jsonify(table=spec.name, title=spec.heading, columns=spec.describe(), rows=records, **extra)
    stem = filename or spec.name
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
    if kind == "csv":
        body, mime = csv_bytes(spec.keys, records), "text/csv; charset=utf-8"
    else:
        body = xlsx_bytes(spec.keys, records, spec.heading)
        mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    resp = Response(body, content_type=mime)
    resp.headers["Content-Disposition"] = f'attachment; filename="{stem}-{stamp}.{kind}"'
    resp.headers["Cache-Control"] = "no-store"
    return resp


def with_format(url: str, kind: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}format={kind}"


def render_cell(col: Col, row: Any, currency: str | None = None, now: datetime | None = None,
                zone: str | None = None, zones: Mapping[str, str] | None = None) -> Markup:
    """One ``<td>`` for ``row`` (escaped; links built with ``url_for``).  Times are shown in the
    row's store's zone (``zones[row["store_id"]]``), else in the page's store zone ``zone``, else UTC."""
    data = row if isinstance(row, Mapping) else as_dict(row)
    value = data.get(col.key)
    if zones and data.get("store_id") in zones:
        zone = zones[data["store_id"]]
    classes = [col.css] if col.css else []
    kind = col.kind
    if kind in ("int", "num", "money", "pct", "bytes"):
        classes.append("num")
    if value is None or value == "":
        text: Any = gettext("never") if kind == "ago" else "—"
    elif kind == "money":
        text = fmt.money(int(value), data.get(col.currency_key) or currency)
    elif kind == "int":
        text = format_number(int(value))  # 1,234 / 1.234 / 1 234 by the request's language
    elif kind == "num":
        text = format_decimal(float(value), digits=2)
    elif kind == "time":
        text = fmt.when(value, zone)
    elif kind == "ago":
        text = Markup('<span title="{}">{}</span>').format(fmt.when(value, zone),
                                                            fmt.ago(value, now or datetime.now(UTC)))
    elif kind == "bool":
        text = gettext("yes") if value else gettext("no")
    elif kind == "pct":
        text = fmt.pct(float(value))
    elif kind == "bytes":
        text = fmt.size(int(value))
    elif kind == "json":
        import json

        text = Markup("<code>{}</code>").format(json.dumps(value, sort_keys=True, default=str))
    elif kind == "list":
        text = ", ".join(str(v) for v in value) if isinstance(value, (list, tuple)) else str(value)
    elif kind == "pill":
        css = col.pills.get(str(value), "")
        shown = gettext(str(value)) if str(value) in col.pills else str(value)
        text = Markup('<span class="pill {}">{}</span>').format(css, shown)
    elif kind == "code":
        text = Markup("<code>{}</code>").format(value)
    else:
        text = str(value)
    if col.link is not None and value not in (None, ""):
        args = {param: data.get(key) for param, key in col.link.args.items()}
        if all(v not in (None, "") for v in args.values()):
            text = Markup('<a href="{}">{}</a>').format(url_for(col.link.endpoint, **args), text)
    cls = Markup(' class="{}"').format(" ".join(classes)) if classes else Markup("")
    return Markup("<td{} data-key=\"{}\">{}</td>").format(cls, col.key, escape(text) if not isinstance(
        text, Markup) else text)
