"""A Flask app with ``i18n.web.install``: templates, views and scripts speak the request's language."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask, render_template_string, request

import i18n
from i18n import catalogues
from i18n.web import RequestLocale, install, js_messages
from tests.i18n.test_catalogues import LINES, _po


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Flask:
    locales = tmp_path / "locales"
    monkeypatch.setattr(catalogues, "LOCALES_DIR", locales)
    _po(locales, "es", "tillsight", LINES + '\nmsgid "Pay %(amount)s"\nmsgstr "Cobrar %(amount)s"\n\n'
        'msgid "Paid"\nmsgstr "Pagado"\n')
    catalogues.reload()
    static = tmp_path / "static"
    static.mkdir()
    (static / "till.js").write_text('el.textContent = _("Paid"); ngettext("%(num)d line", "%(num)d lines", n);\n'
                                    'other("Not marked");\n', encoding="utf-8")
    app = Flask(__name__, static_folder=str(static))

    def choose() -> RequestLocale:
        return RequestLocale(request.args.get("lang") or "en", "America/Santo_Domingo", "DOP")

    install(app, choose)

    @app.get("/page")
    def page() -> str:
        return render_template_string(
            '<html lang="{{ i18n_language }}">{{ i18n_head() }}<p>{{ _("Pay %(amount)s", amount=(123450|money)) }}</p>'
            '<p>{{ ngettext("%(num)d line", "%(num)d lines", 2) }}</p><p>{{ "2026-12-07T03:30:00Z"|datetime }}</p>')

    @app.get("/api/paid")
    def paid() -> dict[str, str]:
        return {"message": i18n.gettext("Paid")}

    yield app
    monkeypatch.undo()
    catalogues.reload()


def test_a_page_speaks_the_requests_language(app: Flask) -> None:
    client = app.test_client()
    spanish = client.get("/page?lang=es").get_data(as_text=True)
    assert '<html lang="es">' in spanish
    assert "<p>Cobrar RD$1,234.50</p>" in spanish and "<p>2 líneas</p>" in spanish
    assert "<p>6 dic 2026, 11:30\u202fp.\u202fm.</p>" in spanish  # store-local time
    english = client.get("/page?lang=en").get_data(as_text=True)
    assert "<p>Pay RD$1,234.50</p>" in english and "<p>2 lines</p>" in english
    assert client.get("/api/paid?lang=es").get_json() == {"message": "Pagado"}
    assert client.get("/api/paid").get_json() == {"message": "Paid"}  # nothing leaks from the last request


def test_scripts_get_the_translations_of_what_they_mark(app: Flask) -> None:
    page = app.test_client().get("/page?lang=es").get_data(as_text=True)
    start = page.index('<script type="application/json" id="i18n-catalogue">') + len(
        '<script type="application/json" id="i18n-catalogue">')
    data = json.loads(page[start:page.index("</script>", start)])
    assert data["messages"] == {"Paid": "Pagado", "%(num)d line": ["%(num)d línea", "%(num)d líneas"]}
    assert data["locale"] == "es-DO" and data["money"]["prefix"] == "RD$" and data["money"]["digits"] == 2
    script = app.test_client().get("/i18n/static/i18n.js")
    assert script.status_code == 200 and b"window.ngettext" in script.data


def test_only_marked_script_strings_are_collected(tmp_path: Path) -> None:
    (tmp_path / "a.js").write_text('_("One"); gettext("Two"); ngettext("%(num)d x", "%(num)d xs", 3); f("No");'
                                   '_("%(a)s and %(b)s", {a: x, b: y});')
    assert js_messages([tmp_path]) == ["One", "Two", ("%(num)d x", "%(num)d xs"), "%(a)s and %(b)s"]
