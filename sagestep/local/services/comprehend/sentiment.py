"""Sentiment with VADER, mapped onto Comprehend's four classes and their scores.

VADER (``vaderSentiment``, a lexicon and rules, shipped with its lexicon: nothing to download) gives the shares
of a text that are positive, negative and neutral (``pos + neg + neu = 1``) and a ``compound`` polarity in
-1..1. Comprehend answers one of POSITIVE, NEGATIVE, NEUTRAL, MIXED with a confidence for each, summing to 1.

The rule (:func:`classify`):

* MIXED when both polarities are substantial: ``pos >= 0.1`` and ``neg >= 0.1`` and the weaker is at least 40%
  of the stronger (``min/max >= 0.4``): "great food, awful service";
* else POSITIVE when ``compound >= 0.05``, NEGATIVE when ``compound <= -0.05`` (VADER's own thresholds),
  NEUTRAL otherwise.

The scores (:func:`scores`): the chosen class gets ``0.5 + 0.49 * strength`` (``|compound|`` for POSITIVE and
NEGATIVE, the balance ``min/max`` for MIXED, ``1 - |compound|`` for NEUTRAL), so it is always the highest, as
Comprehend's ``Sentiment`` is its most confident class. The rest is shared among the other three in proportion to
VADER's evidence for them: the contested part ``2 * min(pos, neg)`` for MIXED, the uncontested rest of each
polarity for POSITIVE and NEGATIVE, ``neu`` for NEUTRAL (plus a small floor, so no class is exactly 0).

Like Comprehend, only the first :data:`SENTIMENT_READS_CHARACTERS` characters are read: what follows does not
change the answer.
"""

from __future__ import annotations

import functools
from typing import Any

from sagestep_service.workflows.documents.comprehend_service import SENTIMENT_READS_CHARACTERS

MIXED_MIN_SHARE = 0.1  #: each polarity's share of the text for MIXED
MIXED_MIN_BALANCE = 0.4  #: the weaker polarity / the stronger for MIXED
POLAR_COMPOUND = 0.05  #: |compound| from which a text is POSITIVE or NEGATIVE (VADER's threshold)
_FLOOR = 0.002


@functools.cache
def _analyzer() -> Any:
    """VADER's analyser, loaded at the first call (its lexicon is read from the package, ~25 ms)."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def classify(polarity: dict[str, float]) -> str:
    """Comprehend's ``Sentiment`` for VADER's ``polarity_scores`` (see the module docstring)."""
    pos, neg, compound = polarity["pos"], polarity["neg"], polarity["compound"]
    stronger = max(pos, neg)
    if min(pos, neg) >= MIXED_MIN_SHARE and stronger > 0 and min(pos, neg) / stronger >= MIXED_MIN_BALANCE:
        return "MIXED"
    if compound >= POLAR_COMPOUND:
        return "POSITIVE"
    if compound <= -POLAR_COMPOUND:
        return "NEGATIVE"
    return "NEUTRAL"


def scores(polarity: dict[str, float], sentiment: str) -> dict[str, float]:
    """Comprehend's ``SentimentScore`` (keys Positive, Negative, Neutral, Mixed; sum 1) for ``sentiment``."""
    pos, neg, neu, compound = polarity["pos"], polarity["neg"], polarity["neu"], polarity["compound"]
    contested = min(pos, neg)
    evidence = {
        "POSITIVE": pos - contested + _FLOOR,
        "NEGATIVE": neg - contested + _FLOOR,
        "NEUTRAL": neu + _FLOOR,
        "MIXED": 2 * contested + _FLOOR,
    }
    strength = {
        "POSITIVE": abs(compound),
        "NEGATIVE": abs(compound),
        "NEUTRAL": 1 - abs(compound),
        "MIXED": contested / max(pos, neg, 1e-9),
    }[sentiment]
    chosen = 0.5 + 0.49 * min(max(strength, 0.0), 1.0)
    others = {name: value for name, value in evidence.items() if name != sentiment}
    total = sum(others.values())
    result = {name: round((1 - chosen) * value / total, 6) for name, value in others.items()}
    result[sentiment] = round(1 - sum(result.values()), 6)  # rounded as Comprehend's are, the sum kept at 1
    return {name.capitalize(): result[name] for name in ("POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED")}


def detect_sentiment(text: str) -> dict[str, Any]:
    """``{"Sentiment": ..., "SentimentScore": {...}}`` of the first :data:`SENTIMENT_READS_CHARACTERS` characters."""
    polarity: dict[str, float] = _analyzer().polarity_scores(text[:SENTIMENT_READS_CHARACTERS])
    sentiment = classify(polarity)
    return {"Sentiment": sentiment, "SentimentScore": scores(polarity, sentiment)}
