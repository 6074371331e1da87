"""A small rule- and gazetteer-based entity recognizer, standing in for Comprehend's model (none can be downloaded).

It finds Comprehend's entity types by what marks them in text, not by understanding it:

* QUANTITY: money (``$1.5 million``, ``20 EUR``: Comprehend types money as QUANTITY), percentages, numbers with a
  unit (``5 kg``, ``3 hours``, ``120 employees``), and bare numbers (lowest confidence);
* DATE: ISO and slashed dates, ``March 5, 2024``, ``5 March 2024``, ``March 2024``, month names (``May`` only beside
  a day or a year: it is also a verb), weekdays, years 1500-2100 and decades, times (``8:30 a.m.``), quarters
  (``Q3 2024``), ``today``/``tomorrow``/``yesterday``, ``next week``;
* PERSON: a capitalised name after an honorific (``Dr. Jane Doe`` -> ``Jane Doe``: the honorific is not part of the
  span), or starting with a known given name (``John Smith``; the given name alone with less confidence);
* ORGANIZATION: known names (Amazon, AWS, ...), capitalised names ending in a company or institution word
  (``Acme Corp.``, ``Stanford University``, ``Deutsche Bank``), ``University of Oxford``;
* LOCATION: a gazetteer of countries, major cities and regions; else a capitalised name after ``in``, ``at``,
  ``near`` or ``from`` (low confidence);
* COMMERCIAL_ITEM: a few known products (``Amazon Comprehend``, ``iPhone``); EVENT: ``<Name> Conference`` /
  ``Summit`` / ``Festival`` ..., ``World War II``, ``the Olympics``; TITLE: a quoted name after ``book``, ``film``,
  ``song``, ``called``, ... (Comprehend's TITLE is a creative work, not a job title).

Where candidates overlap, the rule of higher priority wins, then the longer span (``Amazon Comprehend`` is one
COMMERCIAL_ITEM, not an ORGANIZATION and a word). ``Score`` is a fixed confidence per rule (how often such a match
is right), not a probability a model computed. Offsets index the text exactly (``text[Begin:End] == Text``).
Month, weekday and unit words are English: other languages get the language-neutral rules (numbers, money,
ISO dates, the gazetteers).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sagestep.local.services.comprehend import gazetteer as g
from sagestep.local.services.comprehend.gazetteer import words

_CAP = r"[A-ZÀ-ÖØ-Þ][\w'\u2019-]*"
_CAPSEQ = rf"{_CAP}(?:\s+(?:&\s+)?{_CAP}){{0,4}}"
_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_SCALE = r"(?:\s?(?:thousand|million|billion|trillion|bn|mn|k|m)(?!\w))?"
_UNITS = words(
    "kg g mg t km m cm mm mi miles feet ft inches in lb lbs oz ounces l ml liters litres gallons GB MB KB TB GHz "
    "MHz kWh kW W V °C °F hours hour hrs h minutes minute mins min seconds second secs s ms days day weeks week "
    "months month years year people persons employees users customers pages documents files items units times "
    "words characters requests calls"
)
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_YEAR = r"\d{4}"
#: Capitalised words that start a sentence or a phrase rather than a name (stripped from the front of a span).
_LEADERS = frozenset(
    words(
        "The A An This That These Those Our Their His Her Its My Your We They He She It In At On From By For With "
        "And But Or As After Before When While Yesterday Today Tomorrow Last Next Every Each Some All"
    )
)
_LANGUAGE_NAMES = frozenset(
    words("English French German Spanish Italian Portuguese Chinese Japanese Korean Arabic Hindi Russian Dutch")
)


@dataclass(frozen=True)
class Candidate:
    begin: int
    end: int
    type: str
    score: float
    priority: int


def _alternation(words: Iterable[str]) -> str:
    """A regex alternation of ``words``, longest first (so ``New York City`` wins over ``New York``)."""
    return "|".join(re.escape(word) for word in sorted(set(words), key=len, reverse=True))


@dataclass(frozen=True)
class _Rule:
    pattern: re.Pattern[str]
    type: str
    score: float
    priority: int
    group: int = 0  #: the group that is the entity (0: the whole match)
    strip_leaders: bool = False  #: drop capitalised function words from the front ("The Acme Corp." -> "Acme Corp.")


@functools.cache
def _rules() -> tuple[_Rule, ...]:
    """The rules, compiled once (at the first detection, not at import)."""
    months = _alternation(g.MONTHS)
    any_month = f"{months}|May"
    weekdays = _alternation(g.WEEKDAYS)
    units = _alternation(_UNITS)
    end = r"(?!\w)"

    def rule(pattern: str, kind: str, score: float, priority: int, **extra: Any) -> _Rule:
        return _Rule(re.compile(pattern), kind, score, priority, **extra)

    return (
        # TITLE: a quoted name after a word for a creative work.
        rule(
            rf"(?i:\b(?:{_alternation(g.WORK_WORDS)}|called|titled|entitled))\s+[\"\u201c\u2018']([^\"\u201d\u2019'\n]{{1,80}}?)[\"\u201d\u2019']",
            "TITLE",
            0.9,
            8,
            group=1,
        ),
        # QUANTITY: money, percentages, numbers with units.
        rule(rf"(?:US\$|[$€£¥₹])\s?(?:{_NUM}){_SCALE}", "QUANTITY", 0.98, 7),
        rule(
            rf"(?<![\w.])(?:{_NUM}){_SCALE}\s?(?:USD|EUR|GBP|JPY|CHF|dollars?|euros?|pounds|yen){end}",
            "QUANTITY",
            0.97,
            7,
        ),
        rule(rf"(?<![\w.])(?:{_NUM})\s?(?:%|(?:percent|per cent){end})", "QUANTITY", 0.98, 7),
        # DATE.
        rule(rf"\b(?:(?:{weekdays}),?\s+)?(?:{any_month})\.?\s+{_DAY}(?:,?\s+{_YEAR})?{end}", "DATE", 0.99, 6),
        rule(
            rf"\b(?:(?:{weekdays}),?\s+)?{_DAY}\s+(?:of\s+)?(?:{any_month})\.?(?:,?\s+{_YEAR})?{end}", "DATE", 0.99, 6
        ),
        rule(rf"\b(?:{any_month})\.?,?\s+{_YEAR}{end}", "DATE", 0.99, 6),
        rule(
            r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?)?\b|\b\d{1,2}[/.]\d{1,2}[/.]\d{2,4}\b", "DATE", 0.99, 6
        ),
        rule(r"\b\d{1,2}(?::\d{2})?\s?(?:a\.m\.|p\.m\.|am|pm|AM|PM)(?!\w)|\b\d{1,2}:\d{2}\b", "DATE", 0.97, 6),
        rule(r"\bQ[1-4](?:\s+\d{4})?\b", "DATE", 0.95, 6),
        rule(r"\b(?:1[5-9]\d|20\d)0s\b", "DATE", 0.95, 6),
        rule(rf"\b(?:{months}|{weekdays}){end}", "DATE", 0.95, 5),
        rule(
            rf"(?i:\b(?:{'|'.join(g.RELATIVE_DAYS)})\b|\b(?:next|last|this)\s+(?:week|month|year|quarter)\b)",
            "DATE",
            0.9,
            5,
        ),
        rule(r"\b(?:1[5-9]\d{2}|20\d{2}|2100)\b", "DATE", 0.9, 5),
        # COMMERCIAL_ITEM and EVENT before organizations, which their names often start with.
        rule(rf"(?<!\w)(?:{_alternation(g.COMMERCIAL_ITEMS)}){end}", "COMMERCIAL_ITEM", 0.95, 5),
        rule(
            rf"(?:\b\d{{4}}\s+)?\b(?:{_CAP}\s+){{1,3}}(?:{_alternation(g.EVENT_WORDS)})(?:\s+(?:I{{1,3}}|IV|V|\d+))?{end}",
            "EVENT",
            0.9,
            4,
            strip_leaders=True,
        ),
        rule(r"\b(?:\d{4}\s+)?(?:Olympics|Olympic Games|World Cup|Super Bowl)\b", "EVENT", 0.95, 4),
        # ORGANIZATION.
        rule(rf"(?<!\w)(?:{_alternation(g.ORGANIZATIONS)}){end}", "ORGANIZATION", 0.98, 4),
        rule(
            rf"\b{_CAPSEQ}\s+(?:{_alternation(g.ORGANIZATION_SUFFIXES)})(?!\w)",
            "ORGANIZATION",
            0.95,
            4,
            strip_leaders=True,
        ),
        rule(
            rf"\b(?:{_alternation(g.ORGANIZATION_HEADS)})\s+of\s+(?:the\s+)?{_CAP}(?:\s+{_CAP}){{0,3}}",
            "ORGANIZATION",
            0.93,
            4,
        ),
        # PERSON.
        rule(rf"\b(?:{_alternation(g.HONORIFICS)})\.?\s+({_CAP}(?:\s+{_CAP}){{0,2}})", "PERSON", 0.97, 4, group=1),
        rule(rf"\b(?:{_alternation(g.GIVEN_NAMES)})(?:\s+(?:[A-Z]\.\s+)?{_CAP}){{1,2}}{end}", "PERSON", 0.9, 3),
        rule(rf"\b(?:{_alternation(g.GIVEN_NAMES)}){end}", "PERSON", 0.7, 2),
        # LOCATION.
        rule(rf"(?<!\w)(?:{_alternation([*g.COUNTRIES, *g.CITIES, *g.REGIONS])}){end}", "LOCATION", 0.97, 3),
        rule(rf"(?i:\b(?:in|at|near|from))\s+({_CAP}(?:\s+{_CAP}){{0,2}})", "LOCATION", 0.6, 1, group=1),
        # Bare numbers, and numbers with units.
        rule(rf"(?<![\w.])(?:{_NUM})\s?(?:{units}){end}", "QUANTITY", 0.95, 6),
        rule(rf"(?<![\w.,])(?:{_NUM})(?![\w])", "QUANTITY", 0.8, 0),
    )


def _strip_leaders(text: str, begin: int, end: int) -> tuple[int, int]:
    """``begin`` moved past capitalised function words (and the whitespace after them)."""
    while True:
        match = re.match(r"(\S+)\s+", text[begin:end])
        if match is None or match.group(1) not in _LEADERS:
            return begin, end
        begin += match.end()


def _candidates(text: str) -> Iterator[Candidate]:
    for rule in _rules():
        for match in rule.pattern.finditer(text):
            begin, end = match.span(rule.group)
            if rule.strip_leaders:
                begin, end = _strip_leaders(text, begin, end)
            words = text[begin:end].split()
            if not words:
                continue
            if rule.type == "LOCATION" and rule.priority == 1 and (words[0] in _LEADERS or words[0] in _LANGUAGE_NAMES):
                continue
            if rule.strip_leaders and rule.type == "ORGANIZATION" and len(words) < 2:
                continue  # "The University": a suffix alone is no name
            yield Candidate(begin, end, rule.type, rule.score, rule.priority)


def detect_entities(text: str) -> list[dict[str, Any]]:
    """Comprehend's ``Entities`` of ``text``, in text order (see the module docstring)."""
    chosen: list[Candidate] = []
    for candidate in sorted(_candidates(text), key=lambda c: (-c.priority, -(c.end - c.begin), c.begin)):
        if all(candidate.end <= other.begin or other.end <= candidate.begin for other in chosen):
            chosen.append(candidate)
    return [
        {
            "Score": entity.score,
            "Type": entity.type,
            "Text": text[entity.begin : entity.end],
            "BeginOffset": entity.begin,
            "EndOffset": entity.end,
        }
        for entity in sorted(chosen, key=lambda c: c.begin)
    ]
