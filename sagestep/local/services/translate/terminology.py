"""Custom terminologies (ImportTerminology, CSV): terms kept as the terminology's target text.

A term found in a text (whole words, case-sensitive, longest first) is swapped for a slot (``⟦0⟧``) before the
text goes to the translator, and the slot for the term's target text afterwards: the translator never sees the
term, so it cannot translate it differently, as Translate guarantees for terminologies. The pseudo-translator
keeps slots verbatim; a real engine plugged in must keep them too (most keep such symbols).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

_SLOT = re.compile(r"⟦(\d+)⟧")


@dataclass
class Terminology:
    """One imported terminology: its terms by target language (source term -> target term)."""

    name: str
    arn: str
    source_language: str
    target_languages: list[str]
    terms: dict[str, dict[str, str]]
    size_bytes: int
    created_at: datetime
    updated_at: datetime
    description: str = ""
    directionality: str = "UNI"
    format: str = "CSV"
    skipped: int = 0
    _patterns: dict[str, re.Pattern[str]] = field(default_factory=dict, repr=False)

    def properties(self) -> dict[str, Any]:
        """``TerminologyProperties`` of ListTerminologies/ImportTerminology."""
        return {
            "Name": self.name,
            "Description": self.description,
            "Arn": self.arn,
            "SourceLanguageCode": self.source_language,
            "TargetLanguageCodes": self.target_languages,
            "SizeBytes": self.size_bytes,
            "TermCount": sum(len(terms) for terms in self.terms.values()) // max(1, len(self.target_languages)),
            "CreatedAt": self.created_at,
            "LastUpdatedAt": self.updated_at,
            "Directionality": self.directionality,
            "Format": self.format,
            "SkippedTermCount": self.skipped,
        }

    def pattern(self, target: str) -> re.Pattern[str] | None:
        """The regular expression of this terminology's source terms for ``target`` (None: no terms)."""
        if target not in self._patterns:
            sources = sorted(self.terms.get(target, {}), key=len, reverse=True)
            if not sources:
                return None
            alternatives = "|".join(re.escape(term) for term in sources)
            self._patterns[target] = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")
        return self._patterns[target]


def parse_csv(data: bytes) -> tuple[str, list[str], dict[str, dict[str, str]], int]:
    """``(source language, target languages, terms by target, skipped rows)`` of a terminology CSV: a header of
    language codes (source first), then one term per row. Raises ValueError for a file Translate refuses."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError("The terminology file must be UTF-8 encoded.") from None
    rows = [row for row in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in row)]
    if len(rows) < 2 or len(rows[0]) < 2:
        raise ValueError("The terminology file needs a header of language codes and at least one term.")
    header = [cell.strip() for cell in rows[0]]
    source, targets = header[0], header[1:]
    terms: dict[str, dict[str, str]] = {target: {} for target in targets}
    skipped = 0
    for row in rows[1:]:
        if len(row) != len(header) or not row[0].strip():
            skipped += 1
            continue
        for target, value in zip(targets, row[1:], strict=True):
            if value.strip():
                terms[target][row[0].strip()] = value.strip()
    return source, targets, terms, skipped


def translate_with_terms(
    texts: Sequence[str],
    terminologies: Sequence[Terminology],
    target: str,
    translate: Callable[[list[str]], list[str]],
) -> tuple[list[str], list[dict[str, Any]]]:
    """Translate ``texts`` keeping the terminologies' terms as their target text; also the
    ``appliedTerminologies`` of the details file (``[{"name", "terms": [{"sourceText", "targetText"}]}]``)."""
    slots: list[tuple[Terminology, str, str]] = []

    def protect(text: str) -> str:
        for terminology in terminologies:
            pattern = terminology.pattern(target)
            if pattern is None:
                continue

            def slot(match: re.Match[str], terminology: Terminology = terminology) -> str:
                slots.append((terminology, match.group(), terminology.terms[target][match.group()]))
                return f"⟦{len(slots) - 1}⟧"

            text = pattern.sub(slot, text)
        return text

    protected = [protect(text) for text in texts]
    translated = translate(protected) if protected else []
    if slots:
        translated = [_SLOT.sub(lambda m: slots[int(m.group(1))][2], text) for text in translated]
    applied: dict[str, dict[str, str]] = {}
    for terminology, source_text, target_text in slots:
        applied.setdefault(terminology.name, {})[source_text] = target_text
    return translated, [
        {"name": name, "terms": [{"sourceText": s, "targetText": t} for s, t in terms.items()]}
        for name, terms in applied.items()
    ]
