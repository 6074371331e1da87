"""Paragraphs through Amazon Comprehend's batch APIs (sentiment, key phrases, entities) in as few calls as the
limits allow, and a document summary. Standard library and boto3 only (all the Lambda package holds).

Batches: the reference made one sequential ``Detect*`` call per paragraph and feature; ``BatchDetect*`` takes 25
texts a call, so the chunks of *all* paragraphs are packed together: 60 short paragraphs are 3 calls a feature.
Chunks: a text holds at most 5,000 UTF-8 bytes, so long paragraphs are cut at sentences (:func:`split_text`); for
sentiment, which reads ~500 characters of a text, into groups of 500 characters (:func:`aggregate_sentiment`).
Offsets: Comprehend's ``BeginOffset``/``EndOffset`` count code points ("a multi-byte UTF-8 character maps to a single
code point", its API reference), i.e. ``str`` indices: a paragraph offset is the chunk's plus the item's.
Retries: the client is used as given (botocore's own retries run inside each call); the backoff here is the outer
layer for a throttle that outlasts them."""

from __future__ import annotations

import random
import re
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, TypedDict, cast

from botocore import xform_name
from botocore.exceptions import ClientError

from sagestep_service.workflows.documents.comprehend_service import (
    LANGUAGES,
    MAX_BATCH_DOCUMENTS,
    MAX_DOCUMENT_BYTES,
    SENTIMENT_READS_CHARACTERS,
    SENTIMENTS,
    units,
)

Client = Any  #: a boto3 Comprehend client (no type stubs for Comprehend in the package)

#: feature -> its API ``BatchDetect<name>`` (which keys :class:`Usage` and the summary) and its results' field.
FEATURES = {"sentiment": "Sentiment", "keyPhrases": "KeyPhrases", "entities": "Entities"}

#: MIXED when both the weighted Positive and the weighted Negative exceed this: with 0.3 each side carries at
#: least about a third of the paragraph's text, so neither is an aside; below it the argmax stands.
MIXED_THRESHOLD = 0.3
#: An ``ErrorList`` item is sent again this many more times (in a later batch) when its error is transient.
MAX_ITEM_RETRIES = 3
#: ``ErrorCode`` values worth another try, compared upper-case without underscores (the docs name the codes in
#: both spellings: ``INTERNAL_SERVER_EXCEPTION``, ``InternalServerException``; ``INTERNAL_SERVER_ERROR`` is seen too).
RETRYABLE_ITEM_CODES = frozenset(
    {"INTERNALSERVEREXCEPTION", "INTERNALSERVERERROR", "THROTTLINGEXCEPTION", "TOOMANYREQUESTSEXCEPTION"}
)
#: A whole call refused with one of these is retried with backoff; any other ClientError is raised at once.
THROTTLING_CODES = frozenset({"ThrottlingException", "TooManyRequestsException", "Throttling", "ThrottledException"})
#: Full-jitter exponential backoff: the n-th retry sleeps uniform(0, min(CAP, BASE * 2**n)); at most
#: MAX_CALL_RETRIES retries (worst case 0.5 + 1 + 2 + 4 + 8 = 15.5 s, well inside a Lambda's minutes), then raise.
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 8.0
MAX_CALL_RETRIES = 5
TOP = 10  #: entries of the summary's top key phrases and top entities

#: Words ending in "." that rarely end a sentence: titles before a name, references before a number.
ABBREVIATIONS = frozenset(
    {"mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "no", "nos", "vs", "cf", "fig", "figs", "eq", "vol", "pp"}
    | {"p", "ch", "sec", "art", "approx", "ca", "e.g", "i.e", "dept", "gen", "col", "lt"}
)
#: A candidate boundary: sentence punctuation, closing quotes or brackets, whitespace, then upper-case or a digit
#: (checked in code: ``re`` has no Unicode upper-case class). A decimal ("3.14") has no whitespace: no candidate.
_BOUNDARY = re.compile(r"[.!?]+[\"'\u201d\u2019)\]]*\s+(?=\S)")
_WHITESPACE = re.compile(r"\s")


class Chunk(NamedTuple):
    """A piece of a paragraph; ``paragraph[offset:offset + len(text)] == text`` (``offset`` in characters)."""

    text: str
    offset: int


#: The JSON shapes (Step Functions payloads): Comprehend's score names; offsets into the paragraph, in characters.
class SentimentScore(TypedDict):
    Positive: float
    Negative: float
    Neutral: float
    Mixed: float


class KeyPhrase(TypedDict):
    text: str
    score: float
    beginOffset: int
    endOffset: int


class Entity(KeyPhrase):
    type: str


class ItemError(TypedDict):
    feature: str
    code: str
    message: str


class ParagraphInsights(TypedDict):
    """One paragraph's answers; a feature not asked for, or failed (see ``errors``), stays empty."""

    sentiment: str | None
    sentimentScore: SentimentScore | None
    keyPhrases: list[KeyPhrase]
    entities: list[Entity]
    errors: list[ItemError]


class Usage(TypedDict):
    """Per API: calls made (throttled ones too), billed units of the texts answered, the texts of each call."""

    calls: dict[str, int]
    units: dict[str, int]
    textsPerCall: dict[str, list[int]]


class Analysis(NamedTuple):
    paragraphs: list[ParagraphInsights]
    usage: Usage


class DocumentSummary(TypedDict):
    paragraphs: int
    sentimentDistribution: dict[str, int]
    topKeyPhrases: list[dict[str, Any]]  #: [{text, count}]
    topEntities: list[dict[str, Any]]  #: [{text, type, count}]
    units: dict[str, int]
    calls: dict[str, int]


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Sentence ``(start, end)`` spans covering ``text`` end to end (the whitespace after a sentence belongs to
    it), at the boundaries :func:`split_text` describes."""
    spans, start = [], 0
    for match in _BOUNDARY.finditer(text):
        nxt = text[match.end()]
        if not (nxt.isupper() or nxt.isdigit()) or _abbreviation(text, match.start()):
            continue
        spans.append((start, match.end()))
        start = match.end()
    if start < len(text):
        spans.append((start, len(text)))
    return spans


def _abbreviation(text: str, at: int) -> bool:
    """Whether the "." at ``at`` ends an abbreviation ("Dr", "e.g", "No") or an initial ("J. Smith"); the 12
    characters before it hold any of them (and a bounded look keeps the scan linear)."""
    word = (text[max(0, at - 12) : at].split() or [""])[-1].lstrip("([{\"'\u201c\u2018").lower()
    return text[at] == "." and (word in ABBREVIATIONS or (len(word) == 1 and word.isalpha()))


def _size(text: str, by_bytes: bool) -> int:
    return len(text.encode()) if by_bytes else len(text)


def _cut(text: str, start: int, end: int, limit: int, by_bytes: bool) -> list[tuple[int, int]]:
    """A sentence longer than ``limit`` in pieces cut after the last whitespace that fits (a word longer than the
    limit is cut at a character boundary: bytes decoded back with "ignore" drop a cut multi-byte character)."""
    pieces = []
    while _size(text[start:end], by_bytes) > limit:
        head = text[start : start + limit]
        fit = len(head.encode()[:limit].decode("utf-8", "ignore")) if by_bytes else len(head)
        last_space = max((m.start() for m in _WHITESPACE.finditer(text, start, start + fit)), default=start)
        cut = last_space + 1 if last_space > start else start + fit
        pieces.append((start, cut))
        start = cut
    pieces.append((start, end))
    return pieces


def _pieces(text: str, limit: int, by_bytes: bool) -> list[Chunk]:
    """Whole sentences packed greedily into pieces of at most ``limit`` (bytes or characters); whitespace-only
    pieces dropped (Comprehend has nothing to read in them)."""
    spans: list[tuple[int, int]] = []
    start = end = size = 0
    for s, e in sentence_spans(text):
        n = _size(text[s:e], by_bytes)
        if end > start and size + n > limit:
            spans.append((start, end))
            start, end, size = s, s, 0
        if n > limit:
            *whole, (start, end) = _cut(text, s, e, limit, by_bytes)
            spans.extend(whole)
            size = _size(text[start:end], by_bytes)
        else:
            end, size = e, size + n
    if end > start:
        spans.append((start, end))
    return [Chunk(text[s:e], s) for s, e in spans if text[s:e].strip()]


def split_text(text: str, max_bytes: int = MAX_DOCUMENT_BYTES) -> list[Chunk]:
    """A paragraph in chunks of at most ``max_bytes`` UTF-8 bytes, cut at sentence boundaries (".", "!" or "?",
    whitespace, then an upper-case letter or a digit; not after an abbreviation or an initial); a sentence longer
    than that is cut at a word boundary, never inside a character. Offsets are in characters."""
    if max_bytes < 4:
        raise ValueError("max_bytes must hold a 4-byte character")
    return _pieces(text, max_bytes, by_bytes=True)


def sentiment_groups(text: str) -> list[Chunk]:
    """A paragraph in sentence groups of at most 500 characters (what sentiment reads of a text); a paragraph of
    at most 500 characters is one group, sent whole."""
    return _pieces(text, SENTIMENT_READS_CHARACTERS, by_bytes=False)


def aggregate_sentiment(parts: Sequence[tuple[int, Mapping[str, float]]]) -> tuple[str, SentimentScore]:
    """One paragraph's sentiment from its groups' ``(characters, scores)``: each score the length-weighted mean
    (a group counts as much as the text it covers), the label the argmax, except MIXED when the weighted Positive
    and Negative both exceed :data:`MIXED_THRESHOLD` (a positive half and a negative half average to two middling
    scores whose argmax would hide that the paragraph says both)."""
    total = sum(weight for weight, _ in parts) or 1
    mean = {key: sum(weight * score[key] for weight, score in parts) / total for key in _SCORES}
    score = cast(SentimentScore, mean)
    if score["Positive"] > MIXED_THRESHOLD and score["Negative"] > MIXED_THRESHOLD:
        return "MIXED", score
    return max(_SCORES, key=lambda key: (mean[key], -_SCORES.index(key))).upper(), score


_SCORES = ("Positive", "Negative", "Neutral", "Mixed")  #: argmax ties go to the first


@dataclass
class _Caller:
    """Calls an API, retrying a throttled call with full-jitter exponential backoff (jitter spreads the retries of
    concurrent Lambdas apart, so they don't throttle each other again in step); counts calls and texts."""

    client: Client
    sleep: Callable[[float], None]
    uniform: Callable[[float, float], float]
    usage: Usage

    def call(self, api: str, texts: list[str], **kwargs: Any) -> dict[str, Any]:
        for attempt in range(MAX_CALL_RETRIES + 1):
            self.usage["calls"][api] = self.usage["calls"].get(api, 0) + 1
            self.usage["textsPerCall"].setdefault(api, []).append(len(texts))
            try:
                return cast(dict[str, Any], getattr(self.client, xform_name(api))(TextList=texts, **kwargs))
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") not in THROTTLING_CODES or attempt == MAX_CALL_RETRIES:
                    raise
                self.sleep(self.uniform(0, min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt)))
        raise AssertionError("unreachable")


@dataclass
class _Item:
    paragraph: int
    chunk: Chunk
    retries: int = 0


def _run_batches(
    caller: _Caller,
    feature: str,
    items: Iterable[_Item],
    language: str,
    on_result: Callable[[_Item, dict[str, Any]], None],
    results: list[ParagraphInsights],
) -> None:
    """All items of one feature in calls of at most 25 texts; an item answered in ``ErrorList`` with a transient
    code goes to the back of the queue (so it rides in a later, full batch) up to :data:`MAX_ITEM_RETRIES` times,
    any other error is recorded on its paragraph and the rest goes on."""
    api = f"BatchDetect{FEATURES[feature]}"
    queue = deque(items)
    while queue:
        batch = [queue.popleft() for _ in range(min(MAX_BATCH_DOCUMENTS, len(queue)))]
        response = caller.call(api, [item.chunk.text for item in batch], LanguageCode=language)
        answered = {result["Index"]: result for result in response.get("ResultList", [])}
        errors = {error["Index"]: error for error in response.get("ErrorList", [])}
        for index, item in enumerate(batch):
            if index in answered:
                caller.usage["units"][api] = caller.usage["units"].get(api, 0) + units(item.chunk.text)
                on_result(item, answered[index])
                continue
            error = errors.get(index, {"ErrorCode": "INTERNAL_SERVER_EXCEPTION", "ErrorMessage": "no result"})
            code, message = str(error.get("ErrorCode", "")), str(error.get("ErrorMessage", ""))
            if code.upper().replace("_", "") in RETRYABLE_ITEM_CODES and item.retries < MAX_ITEM_RETRIES:
                item.retries += 1
                queue.append(item)
            else:
                results[item.paragraph]["errors"].append(ItemError(feature=feature, code=code, message=message))


def analyse(
    client: Client,
    paragraphs: Sequence[str],
    language: str,
    features: set[str],
    *,
    sleep: Callable[[float], None] = time.sleep,
    uniform: Callable[[float, float], float] = random.uniform,
) -> Analysis:
    """Sentiment, key phrases and/or entities of every paragraph, in batch calls packing the chunks of all
    paragraphs; offsets are into each paragraph. ``sleep`` and ``uniform`` are the backoff's clock and jitter."""
    if unknown := features - FEATURES.keys():
        raise ValueError(f"unknown features: {sorted(unknown)}")
    if language not in LANGUAGES:
        raise ValueError(f"Comprehend does not analyse {language!r}")
    results = [
        ParagraphInsights(sentiment=None, sentimentScore=None, keyPhrases=[], entities=[], errors=[])
        for _ in paragraphs
    ]
    caller = _Caller(client, sleep, uniform, Usage(calls={}, units={}, textsPerCall={}))

    if "sentiment" in features:
        parts: list[list[tuple[int, Mapping[str, float]]]] = [[] for _ in paragraphs]
        items = [_Item(i, group) for i, text in enumerate(paragraphs) for group in sentiment_groups(text)]

        def on_sentiment(item: _Item, result: dict[str, Any]) -> None:
            parts[item.paragraph].append((len(item.chunk.text), result["SentimentScore"]))
            if len(parts[item.paragraph]) == 1:  # kept as Comprehend said it when the paragraph is one group
                results[item.paragraph]["sentiment"] = result["Sentiment"]
                results[item.paragraph]["sentimentScore"] = result["SentimentScore"]

        _run_batches(caller, "sentiment", items, language, on_sentiment, results)
        for index, answered in enumerate(parts):
            if len(answered) > 1:
                results[index]["sentiment"], results[index]["sentimentScore"] = aggregate_sentiment(answered)

    chunks = [(i, chunk) for i, text in enumerate(paragraphs) for chunk in split_text(text)]
    for feature in ("keyPhrases", "entities"):
        if feature not in features:
            continue

        def on_items(item: _Item, result: dict[str, Any], feature: str = feature) -> None:
            # offsets moved by the chunk's; chunks don't overlap, so a mention comes from one chunk (no seam twins)
            found: list[Any] = results[item.paragraph][feature]  # type: ignore[literal-required]
            seen = {(f["beginOffset"], f["endOffset"], f.get("type")) for f in found}
            for answer in result.get(FEATURES[feature], []):
                begin, end = item.chunk.offset + answer["BeginOffset"], item.chunk.offset + answer["EndOffset"]
                mapped = {"text": answer["Text"], "score": answer["Score"], "beginOffset": begin, "endOffset": end}
                mapped |= {"type": answer["Type"]} if "Type" in answer else {}
                if (key := (mapped["beginOffset"], mapped["endOffset"], mapped.get("type"))) not in seen:
                    seen.add(key)
                    found.append(mapped)

        items = [_Item(i, chunk) for i, chunk in chunks]  # fresh retry counters per feature
        _run_batches(caller, feature, items, language, on_items, results)

    for result in results:  # retried chunks answer late: order by position, as a reader would
        result["keyPhrases"].sort(key=lambda p: (p["beginOffset"], p["endOffset"]))
        result["entities"].sort(key=lambda e: (e["beginOffset"], e["endOffset"], e["type"]))
    return Analysis(results, caller.usage)


def summarize(analysis: Analysis) -> DocumentSummary:
    """The document at a glance, deterministic for the same input: sentiments counted (all four labels present),
    key phrases counted case-insensitively and entities by (text case-insensitively, type), each shown in its most
    frequent spelling (ties: the alphabetically first), the top 10 by count then alphabetically."""
    distribution = dict.fromkeys(SENTIMENTS, 0)
    phrases: dict[str, Counter[str]] = {}
    entities: dict[tuple[str, str], Counter[str]] = {}
    for paragraph in analysis.paragraphs:
        if paragraph["sentiment"] is not None:
            distribution[paragraph["sentiment"]] = distribution.get(paragraph["sentiment"], 0) + 1
        for phrase in paragraph["keyPhrases"]:
            phrases.setdefault(phrase["text"].casefold(), Counter())[phrase["text"]] += 1
        for entity in paragraph["entities"]:
            entities.setdefault((entity["text"].casefold(), entity["type"]), Counter())[entity["text"]] += 1

    def ranked(groups: dict[Any, Counter[str]]) -> list[tuple[Any, str, int]]:
        totals = sorted(((key, forms.total()) for key, forms in groups.items()), key=_by_count)[:TOP]
        return [(key, sorted(groups[key].items(), key=_by_count)[0][0], count) for key, count in totals]

    return DocumentSummary(
        paragraphs=len(analysis.paragraphs),
        sentimentDistribution=distribution,
        topKeyPhrases=[{"text": text, "count": count} for _, text, count in ranked(phrases)],
        topEntities=[{"text": text, "type": key[1], "count": count} for key, text, count in ranked(entities)],
        units=dict(sorted(analysis.usage["units"].items())),
        calls=dict(sorted(analysis.usage["calls"].items())),
    )


def _by_count(row: tuple[Any, int]) -> tuple[int, Any]:
    """Most frequent first, ties alphabetical (so the summary is the same whatever the paragraphs' order)."""
    return -row[1], row[0]


def detect_language(client: Client, texts: Sequence[str], *, sleep: Callable[[float], None] = time.sleep) -> str:
    """The dominant language of a document from a sample, its first chunk of at most 5,000 bytes (the most one
    text may hold, and a language shows in far less), in one ``BatchDetectDominantLanguage`` call."""
    head = ""
    for text in texts:  # enough characters for 5,000 bytes (a character is at least one byte), not the document
        if len(head := f"{head}{text}\n") >= MAX_DOCUMENT_BYTES:
            break
    chunks = split_text(head)
    if not chunks:
        raise ValueError("no text to detect a language in")
    caller = _Caller(client, sleep, random.uniform, Usage(calls={}, units={}, textsPerCall={}))
    response = caller.call("BatchDetectDominantLanguage", [chunks[0].text])
    languages = [language for result in response.get("ResultList", []) for language in result.get("Languages", [])]
    if not languages:
        raise ValueError(f"no language detected: {response.get('ErrorList')}")
    return str(max(languages, key=lambda language: language["Score"])["LanguageCode"])
