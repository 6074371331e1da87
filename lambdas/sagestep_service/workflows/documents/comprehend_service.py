"""What Amazon Comprehend's batch detection APIs accept (checked 2026-12 against the Comprehend developer guide)."""

from __future__ import annotations

MAX_BATCH_DOCUMENTS = 25  #: BatchDetect* take at most this many texts a call
MAX_DOCUMENT_BYTES = 5000  #: UTF-8 bytes of one text for BatchDetectSentiment, ...KeyPhrases, ...Entities
#: DetectSentiment reads about the first 500 characters of a text (the rest does not change its answer).
SENTIMENT_READS_CHARACTERS = 500
#: Billing: units of 100 characters, at least 3 units per text, per API.
BILLING_UNIT_CHARACTERS = 100
MIN_UNITS_PER_TEXT = 3
SENTIMENTS = ("POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED")
#: Languages of sentiment, key phrases and entities (the same list for the three).
LANGUAGES = frozenset({"en", "es", "fr", "de", "it", "pt", "ar", "hi", "ja", "ko", "zh", "zh-TW"})
ENTITY_TYPES = (
    "PERSON",
    "LOCATION",
    "ORGANIZATION",
    "COMMERCIAL_ITEM",
    "EVENT",
    "DATE",
    "QUANTITY",
    "TITLE",
    "OTHER",
)


def units(text: str) -> int:
    """Comprehend's billed units for one text and one API."""
    return max(MIN_UNITS_PER_TEXT, -(-len(text) // BILLING_UNIT_CHARACTERS))


#: UTF-8 bytes of the text of one DetectSentiment call (its TextSizeLimitExceededException names the limit).
MAX_SENTIMENT_BYTES = 5000
#: UTF-8 bytes of the text of one DetectKeyPhrases, DetectEntities or DetectDominantLanguage call.
MAX_DETECT_BYTES = 100_000
