"""Why an enrolment photo was refused or not added, in the reader's language.

``vision.gallery`` (which imports no languages) reports each photo it did not add as a
:class:`vision.gallery.enrol.PhotoNote`: an English sentence for the command line and logs, plus a code and
its values.  The catalogue page and its JSON API word the code here, for the request's language; a code this
device does not know (a newer vision package) is shown as vision's English sentence.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from i18n import format_decimal, format_number
from i18n import gettext as _
from vision.gallery.enrol import PHOTO_SUFFIXES, PhotoNote, SkuReport

NOT_A_PHOTO = "not_a_photo"  # the upload's own refusal: the file name does not end as a photo's does


def _number(value: Any, digits: int = 0) -> str:
    return format_number(int(value)) if digits == 0 else format_decimal(float(value), digits=digits)


_SAY: dict[str, Callable[[dict[str, Any]], str]] = {
    "unreadable": lambda v: _("unreadable: not a picture the till can open"),
    "too_small": lambda v: _("too small: %(width)s×%(height)s pixels, at least %(min)s on each side",
                             width=_number(v["width"]), height=_number(v["height"]), min=_number(v["min"])),
    "blurred": lambda v: _("blurred: sharpness %(sharpness)s is below %(min)s (hold the camera still, focus on "
                           "the product)", sharpness=_number(v["sharpness"], 1), min=_number(v["min"])),
    "near_duplicate": lambda v: _("it repeats a photo the gallery already has (%(example)s)", example=v["example"]),
    NOT_A_PHOTO: lambda v: _("not a photo file (%(kinds)s)", kinds=v["kinds"]),
}


def not_a_photo(name: str) -> PhotoNote:
    """The upload's refusal of a file whose name does not end as a photo's does."""
    kinds = ", ".join(PHOTO_SUFFIXES)
    return PhotoNote(name, f"not a photo file ({kinds})", NOT_A_PHOTO, {"kinds": kinds})


def note_text(note: PhotoNote) -> str:
    """The note's reason in the current language (vision's English sentence for an unknown code)."""
    say = _SAY.get(note.code)
    if say is None:
        return note.reason
    try:
        return say(note.values)
    except (KeyError, TypeError, ValueError):  # values of another shape: the sentence vision wrote
        return note.reason


def report_json(report: SkuReport) -> dict[str, Any]:
    """The upload's report for the JSON API: each ``reason`` in the request's language, with its code and
    values for a program."""
    body = report.to_json()
    for key, notes in (("refused", report.refused), ("skipped", report.skipped)):
        body[key] = [{**n.to_json(), "reason": note_text(n)} for n in notes]
    return body
