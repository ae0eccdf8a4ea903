"""Personal data that is a *field* rather than a number shape: dates of birth and postal addresses.

A date is a date of birth only when something says so: a label right before it ("born",
"DOB:", "date of birth", a JSON/YAML key such as "dob" or "birth_date"), or a table/CSV column
whose header names a birth date. Dates are read in ISO (1982-01-10), numeric day/month/year or
month/day/year (10/01/1982, 10.01.82) and written forms ("10 January 1982", "Jan 10, 1982"),
and must be real calendar values with a year from 1900 to 2030.

A postal address is a house number, one to three capitalised words and a street type ("18 Elm
Road", "5 Station Avenue", "4417 W Hollis Ave"), or the continental forms ("Hauptstraße 12",
"12 rue de la Paix", "Via Roma 10"), that is either followed by a town or postcode or
introduced by a residence label ("lives at", "address"). An address the reply gives as the
organisation's own ("our office at ...") is not personal data.
"""

from __future__ import annotations

import re

Span = tuple[int, int]

_MONTH_NAMES = "jan feb mar apr may jun jul aug sep oct nov dec"
_MONTHS = {m: i + 1 for i, m in enumerate(_MONTH_NAMES.split())}
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_DATE = re.compile(
    r"(?P<iso>(?P<iy>\d{4})[-/.](?P<im>\d{1,2})[-/.](?P<id>\d{1,2}))(?!\d)"
    r"|(?P<num>(?P<na>\d{1,2})[-/.](?P<nb>\d{1,2})[-/.](?P<ny>\d{4}|\d{2}))(?![\d/.-]\d)"
    rf"|(?P<dmy>(?P<dd>\d{{1,2}})(?:st|nd|rd|th)?(?:\s+of)?\s+(?P<dm>{_MONTH}),?\s+(?P<dy>\d{{4}}))"
    rf"|(?P<mdy>(?P<mm>{_MONTH})\s+(?P<md>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<my>\d{{4}}))",
    re.I,
)
_BIRTH = re.compile(
    r"\b(?:born(?:\s+on)?|date[\s_-]*of[\s_-]*birth|birth[\s_-]*date|birthday|d\.?o\.?b\.?"
    r"|geburtsdatum|geboren(?:\s+am)?|n[ée]e?\s+le|fecha\s+de\s+nacimiento|nacid[oa]\s+el"
    r"|data\s+di\s+nascita|nat[oa]\s+il|data\s+de\s+nascimento)(?![\w])",
    re.I,
)
# Cheap substring checks (on the lower-cased text) before any pattern runs.
_BIRTH_HINTS = ("born", "birth", "dob", "d.o.b", "geb", "née", "nee ", "né ", "naci", "nasc",
                "nato il", "nata il")
_AFTER_LABEL = re.compile(
    r"""[\s"':=,(\-]{0,8}(?:(?:is|was|on|am|le|el|il)\s+)?(?:on\s+)?""")


def _year(y: str) -> int:
    n = int(y)
    return n if len(y) == 4 else (1900 + n if n > 30 else 2000 + n)


def _valid(y: int, m: int, d: int) -> bool:
    return 1900 <= y <= 2030 and 1 <= m <= 12 and 1 <= d <= 31


def _month(word: str) -> int:
    return _MONTHS.get(word[:3].lower(), 0)


def date_ok(m: re.Match[str]) -> bool:
    """A real calendar date (either day/month order for numeric forms)."""
    if m.group("iso"):
        return _valid(int(m.group("iy")), int(m.group("im")), int(m.group("id")))
    if m.group("num"):
        a, b, y = int(m.group("na")), int(m.group("nb")), _year(m.group("ny"))
        return _valid(y, b, a) or _valid(y, a, b)
    if m.group("dmy"):
        return _valid(int(m.group("dy")), _month(m.group("dm")), int(m.group("dd")))
    return _valid(int(m.group("my")), _month(m.group("mm")), int(m.group("md")))


def _header_dates(text: str) -> list[Span]:
    """Dates in the rows under a CSV/table header line that names a birth-date column."""
    out: list[Span] = []
    pos, in_table = 0, False
    for line in text.splitlines(keepends=True):
        if _BIRTH.search(line) and any(sep in line for sep in ",|\t;"):
            in_table = True
        elif in_table:
            out += [(pos + m.start(), pos + m.end()) for m in _DATE.finditer(line) if date_ok(m)]
        pos += len(line)
    return out


def find_dobs(text: str) -> list[Span]:
    """Spans of dates of birth: a date right after a birth label, or in a birth-date column."""
    low = text.lower()
    if not any(h in low for h in _BIRTH_HINTS):
        return []
    out = []
    for label in _BIRTH.finditer(text):
        gap = _AFTER_LABEL.match(text, label.end())
        at = gap.end() if gap else label.end()
        m = _DATE.match(text, at)
        if m and date_ok(m):
            out.append(m.span())
    if "\n" in text:
        out += [s for s in _header_dates(text) if s not in out]
    return out


_STREET_TYPE = (
    r"(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Close|Drive|Dr|Way|Court|Ct|Place|Pl|Boulevard"
    r"|Blvd|Crescent|Cres|Terrace|Square|Sq|Gardens|Grove|Row|Mews|Parkway|Pkwy|Highway|Hwy"
    r"|Circle|Cir|Trail|Walk|Hill|Park|Rise|View|Green)"
)
# Each pattern starts with a plain character class (so the scan for it is fast); the ones for
# other languages run only when one of their words is in the text.
_STREETS: tuple[tuple[tuple[str, ...], re.Pattern[str]], ...] = (
    ((), re.compile(
        rf"\d{{1,5}}[A-Za-z]?,?\s+(?:(?:[NSEW]|N[EW]|S[EW])\.?\s+)?(?:[A-Z][a-z'’.-]+\s+){{1,3}}"
        rf"{_STREET_TYPE}\b\.?")),
    (("straße", "strasse", "str.", "weg ", "gasse", "platz", "allee", "laan", "straat", "gracht",
      "plein"), re.compile(
        r"[A-ZÄÖÜ][a-zäöüß]+(?:straße|strasse|str\.|weg|gasse|platz|allee|laan|straat|gracht"
        r"|plein)\s+\d{1,4}[a-z]?(?!\w)")),
    (("rue ", "avenue ", "boulevard ", "chemin ", "place ", "allée "), re.compile(
        r"\d{1,4},?\s+(?:rue|avenue|boulevard|chemin|place|allée)\s+"
        r"(?:(?:de|du|des|la|le|l'|d')\s*){0,2}[A-ZÉ][\w'-]+")),
    (("calle ", "avenida ", "via ", "viale ", "rua ", "piazza ", "plaza ", "carrer "), re.compile(
        r"(?:Calle|Avenida|Via|Viale|Rua|Piazza|Plaza|Carrer)\s+(?:(?:de|del|da|do|la)\s+)?"
        r"[A-Z]\w+(?:\s+[A-Z]\w+)?,?\s+\d{1,4}(?!\w)")),
)
_TOWN_OR_CODE = re.compile(
    r",?\s*(?:[A-Z][a-zà-ÿ'-]+|\d{4,5}\b|[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}\b)"
)
_RESIDENCE = re.compile(
    r"(?:lives?|living|resides?|residing|staying|moved|address(?:es)?|addr|home|wohnt|vit|vive"
    r"|abita|mora|woont)\W{0,4}(?:at|in|is|:|to|a|en|in)?\W{0,3}$", re.I)
_ORG_OWN = re.compile(
    r"\b(?:our|we|us|office|headquarters|hq|store|shop|branch|campus|warehouse|showroom)\b",
    re.I)


def find_addresses(text: str) -> list[Span]:
    """Spans of postal addresses of people (see the module's docstring)."""
    out = []
    low = text.lower()
    for hints, rx in _STREETS:
        if hints and not any(h in low for h in hints):
            continue
        for m in rx.finditer(text):
            start = m.start()
            if start and (text[start - 1].isalnum() or text[start - 1] in "_#.,/-"):
                continue  # inside a longer token ("v2.18 Elm...", "#12 ...")
            before = text[max(0, start - 40) : start]
            if _ORG_OWN.search(before):
                continue
            if _RESIDENCE.search(before) or _TOWN_OR_CODE.match(text, m.end()):
                out.append(m.span())
    return out
