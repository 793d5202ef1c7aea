"""Customer names, phones and e-mails never leave the hub.

A :class:`Pseudonymiser` gives each customer an alias (``Customer C1``; phone ``[phone C1]``,
e-mail ``[email C1]``), replaces registered values in text with them (:meth:`scrub`), blanks stray
e-mail addresses and phone numbers it does not know (``[email]`` / ``[phone]``), and maps aliases
in the model's answer back to the real values (:meth:`restore`).  :meth:`leaks` finds registered
real values in a serialized request: the service refuses to send one that has any."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any

EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# Phone-shaped text only (not every long number: totals, ids and dates must survive):
# an international number with "+", or a 3-3-4 / (3) 3-4 number with separators.
PHONE_RE = re.compile(
    r"(?<![\w+])(?:\+\d{1,3}[\s.-]?(?:\(\d{1,4}\)[\s.-]?)?\d{1,4}(?:[\s.-]?\d{2,4}){1,4}"
    r"|\(?\d{3}\)?[\s.-]\d{3}[\s.-]\d{4})(?!\w)"
)
_ALIAS_RE = re.compile(r"\[(phone|email) C(\d+)\]|Customer C(\d+)\b")


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _phone_pattern(phone: str) -> re.Pattern[str] | None:
    """The phone's digits with any separators between them (and an optional leading +).  A number
    written with a country code (``+1 809-555-0143``) also matches without it (``8095550143``,
    ``0`` trunk prefix allowed: ``+44 7700 900123`` / ``07700 900123``)."""
    digits = _digits(phone)
    if len(digits) < 5:
        return None
    variants = {digits}
    if phone.strip().startswith(("+", "00")):
        full = digits[2:] if phone.strip().startswith("00") else digits
        variants.add(full)
        for cc in (1, 2, 3):
            national = full[cc:]
            if len(national) >= 7:
                variants.update({national, "0" + national})
    sep = r"[\s().+-]*"
    alternatives = "|".join(sep.join(v) for v in sorted(variants, key=len, reverse=True))
    return re.compile(r"(?<!\d)\+?(?:" + alternatives + r")(?!\d)")


def _name_pattern(name: str) -> re.Pattern[str]:
    words = [re.escape(w) for w in name.split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)", re.IGNORECASE)


@dataclass(frozen=True)
class _Person:
    number: int
    customer_id: str
    name: str
    phone: str | None
    email: str | None

    @property
    def alias(self) -> str:
        return f"Customer C{self.number}"


class Pseudonymiser:
    """Aliases for the customers of one request (stable for this instance)."""

    def __init__(self) -> None:
        self._by_id: dict[str, _Person] = {}
        self._by_number: dict[int, _Person] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._by_id)

    def customer(self, customer_id: str, name: str | None, phone: str | None = None,
                 email: str | None = None) -> str:
        """Register a customer; returns the alias (the same one for the same ``customer_id``).
        Phone and e-mail given later are added to the customer already registered."""
        key = str(customer_id)
        with self._lock:
            known = self._by_id.get(key)
            if known is not None:
                if (phone and not known.phone) or (email and not known.email) or (name and not known.name):
                    known = _Person(known.number, key, known.name or (name or "").strip(),
                                    known.phone or phone, known.email or email)
                    self._by_id[key] = self._by_number[known.number] = known
                return known.alias
            number = len(self._by_id) + 1
            person = _Person(number, key, (name or "").strip(), (phone or "").strip() or None,
                             (email or "").strip() or None)
            self._by_id[key] = self._by_number[number] = person
            return person.alias

    def alias(self, customer_id: str) -> str | None:
        person = self._by_id.get(str(customer_id))
        return person.alias if person else None

    def customer_id(self, alias: str) -> str | None:
        """The real customer id behind an alias such as ``Customer C2`` (None if unknown)."""
        match = re.fullmatch(r"\s*(?:Customer )?C(\d+)\s*", alias or "")
        person = self._by_number.get(int(match.group(1))) if match else None
        return person.customer_id if person else None

    def _people(self) -> list[_Person]:
        with self._lock:
            # longest names first, so "Ana María Pérez" is replaced before "Ana"
            return sorted(self._by_id.values(), key=lambda p: -len(p.name))

    def real_values(self) -> list[str]:
        """Every registered real name, phone and e-mail."""
        out: list[str] = []
        for p in self._people():
            out += [v for v in (p.name, p.phone, p.email) if v]
        return out

    def scrub(self, obj: Any) -> Any:
        """Registered names, phones and e-mails -> aliases; stray e-mails and phone numbers ->
        ``[email]`` / ``[phone]``.  Works on a string, or recursively on lists and dict values."""
        if isinstance(obj, str):
            return self._scrub_text(obj)
        if isinstance(obj, dict):
            return {k: self.scrub(v) for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            return type(obj)(self.scrub(v) for v in obj) if isinstance(obj, list) else tuple(
                self.scrub(v) for v in obj)
        return obj

    def _scrub_text(self, text: str) -> str:
        people = self._people()
        for p in people:
            if p.email:
                text = re.sub(re.escape(p.email), f"[email C{p.number}]", text, flags=re.IGNORECASE)
        for p in people:
            pattern = _phone_pattern(p.phone) if p.phone else None
            if pattern is not None:
                text = pattern.sub(f"[phone C{p.number}]", text)
        for p in people:
            if p.name:
                text = _name_pattern(p.name).sub(p.alias, text)
        text = EMAIL_RE.sub("[email]", text)
        return PHONE_RE.sub("[phone]", text)

    def restore(self, obj: Any) -> Any:
        """Aliases -> real values, recursively over str / list / tuple / dict values."""
        if isinstance(obj, str):
            return self._restore_text(obj)
        if isinstance(obj, dict):
            return {k: self.restore(v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [self.restore(v) for v in obj]
        if isinstance(obj, tuple):
            return tuple(self.restore(v) for v in obj)
        return obj

    def _restore_text(self, text: str) -> str:
        if not self._by_number:
            return text

        def repl(m: re.Match[str]) -> str:
            number = int(m.group(2) or m.group(3))
            person = self._by_number.get(number)
            if person is None:
                return m.group(0)
            if m.group(1) == "phone":
                return person.phone or m.group(0)
            if m.group(1) == "email":
                return person.email or m.group(0)
            return person.name or m.group(0)

        return _ALIAS_RE.sub(repl, text)

    def leaks(self, text: str) -> list[str]:
        """Which kinds of registered real values appear in ``text`` (e.g. ``["name of C2"]``);
        empty when none does.  The values themselves are never returned (they end up in logs)."""
        found: list[str] = []
        for p in self._people():
            if p.name and _name_pattern(p.name).search(text):
                found.append(f"name of C{p.number}")
            if p.email and p.email.lower() in text.lower():
                found.append(f"e-mail of C{p.number}")
            pattern = _phone_pattern(p.phone) if p.phone else None
            if pattern is not None and pattern.search(text):
                found.append(f"phone of C{p.number}")
        return found
