"""Paragraphs through Comprehend's batch APIs (``workflows/documents/insights.py``): splitting at sentences within
5,000 bytes, packing all paragraphs' chunks into calls of 25 texts, long-paragraph sentiment, offsets mapped back
into the paragraph, ``ErrorList`` retries, throttling with backoff, the summary and billed units.

Given/When/Then. Comprehend is a small fake client (moto has no Comprehend analysis): it records each call and
answers deterministically (sentiment from a few words, key phrases = capitalised words with their real offsets,
entities = capitalised words from a small gazetteer), and raises botocore's ClientError when told to. The logic
under test is the module's own.
"""

from __future__ import annotations

import re
from collections import deque
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sagestep_service.workflows.documents import insights
from sagestep_service.workflows.documents.comprehend_service import MAX_BATCH_DOCUMENTS, units
from sagestep_service.workflows.documents.insights import (
    Chunk,
    aggregate_sentiment,
    analyse,
    detect_language,
    sentence_spans,
    sentiment_groups,
    split_text,
    summarize,
)

ALL = {"sentiment", "keyPhrases", "entities"}
POSITIVE_WORDS = {"good", "great", "excellent", "happy"}
NEGATIVE_WORDS = {"bad", "awful", "terrible", "sad"}
GAZETTEER = {"Paris": "LOCATION", "Alice": "PERSON", "Acme": "ORGANIZATION"}


class FakeComprehend:
    """The four batch methods of a boto3 Comprehend client, deterministic, recording ``(api, texts)``."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[str]]] = []
        self.throttle = 0  #: refuse this many next calls with ThrottlingException
        #: text substring -> queue of ErrorCodes to answer (one per call) before a result
        self.item_errors: dict[str, deque[str]] = {}

    def _call(self, api: str, texts: list[str], answer: Any) -> dict[str, Any]:
        self.calls.append((api, list(texts)))
        assert 1 <= len(texts) <= MAX_BATCH_DOCUMENTS
        assert all(len(text.encode()) <= 5000 for text in texts)
        if self.throttle:
            self.throttle -= 1
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, api)
        results, errors = [], []
        for index, text in enumerate(texts):
            pending = next((codes for marker, codes in self.item_errors.items() if marker in text and codes), None)
            if pending:
                errors.append({"Index": index, "ErrorCode": pending.popleft(), "ErrorMessage": "item failed"})
            else:
                results.append({"Index": index, **answer(text)})
        return {"ResultList": results, "ErrorList": errors}

    def batch_detect_sentiment(self, TextList: list[str], LanguageCode: str) -> dict[str, Any]:
        return self._call("BatchDetectSentiment", TextList, sentiment_of)

    def batch_detect_key_phrases(self, TextList: list[str], LanguageCode: str) -> dict[str, Any]:
        return self._call("BatchDetectKeyPhrases", TextList, lambda text: {"KeyPhrases": capitalised(text)})

    def batch_detect_entities(self, TextList: list[str], LanguageCode: str) -> dict[str, Any]:
        def answer(text: str) -> dict[str, Any]:
            found = [
                {**word, "Type": GAZETTEER[word["Text"]]} for word in capitalised(text) if word["Text"] in GAZETTEER
            ]
            return {"Entities": found}

        return self._call("BatchDetectEntities", TextList, answer)

    def batch_detect_dominant_language(self, TextList: list[str]) -> dict[str, Any]:
        def answer(text: str) -> dict[str, Any]:
            french = sum(word in {"le", "la", "est", "et"} for word in text.lower().split())
            return {"Languages": [{"LanguageCode": "en", "Score": 0.4}, {"LanguageCode": "fr", "Score": 0.5 + french}]}

        return self._call("BatchDetectDominantLanguage", TextList, answer)

    def apis(self) -> list[str]:
        return [api for api, _ in self.calls]


def sentiment_of(text: str) -> dict[str, Any]:
    words = re.findall(r"[a-z]+", text.lower())
    positive = sum(word in POSITIVE_WORDS for word in words)
    negative = sum(word in NEGATIVE_WORDS for word in words)
    if positive > negative:
        return {"Sentiment": "POSITIVE", "SentimentScore": score(0.9, 0.02, 0.05, 0.03)}
    if negative > positive:
        return {"Sentiment": "NEGATIVE", "SentimentScore": score(0.02, 0.9, 0.05, 0.03)}
    return {"Sentiment": "NEUTRAL", "SentimentScore": score(0.05, 0.05, 0.85, 0.05)}


def score(positive: float, negative: float, neutral: float, mixed: float) -> dict[str, float]:
    return {"Positive": positive, "Negative": negative, "Neutral": neutral, "Mixed": mixed}


def capitalised(text: str) -> list[dict[str, Any]]:
    """Capitalised words with their code-point offsets in ``text`` (as Comprehend counts them)."""
    return [
        {"Text": m.group(), "Score": 0.99, "BeginOffset": m.start(), "EndOffset": m.end()}
        for m in re.finditer(r"\b[A-Z][A-Za-zé]+\b", text)
    ]


def sentence(i: int, mood: str = "good") -> str:
    return f"Item {i} of the list is {mood} and plain text follows here."


@pytest.fixture
def client() -> FakeComprehend:
    return FakeComprehend()


def no_sleep(_: float) -> None:
    raise AssertionError("no backoff expected")


def assert_exact(text: str, chunks: list[Chunk]) -> None:
    for chunk in chunks:
        assert text[chunk.offset : chunk.offset + len(chunk.text)] == chunk.text


# --- splitting ----------------------------------------------------------------------------------------------------


def test_a_short_paragraph_is_one_chunk() -> None:
    # Given a paragraph far under 5,000 bytes / When split / Then it is itself, at offset 0
    text = "Dr. Smith arrived. He paid 3.50 dollars, e.g. for tea. Then he left!"
    assert split_text(text) == [Chunk(text, 0)]


def test_sentences_are_not_cut_after_abbreviations_initials_or_decimals() -> None:
    # Given sentences with "Dr.", "e.g.", "No.", "Mr.", an initial and a decimal
    text = "Dr. Smith met Mr. J. Brown. Prices rose 3.5 percent, e.g. Bread. See No. 5 here? Yes! 2024 was odd."
    # When cut into sentences
    spans = sentence_spans(text)
    # Then each ends at a real sentence end, never after an abbreviation, an initial or inside "3.5"
    assert [text[start:end].strip() for start, end in spans] == [
        "Dr. Smith met Mr. J. Brown.",
        "Prices rose 3.5 percent, e.g. Bread.",
        "See No. 5 here?",
        "Yes!",
        "2024 was odd.",
    ]
    # And chunks of 40 bytes pack whole sentences (two short ones together), offsets exact
    chunks = split_text(text, max_bytes=40)
    assert [chunk.text.strip() for chunk in chunks] == [
        "Dr. Smith met Mr. J. Brown.",
        "Prices rose 3.5 percent, e.g. Bread.",
        "See No. 5 here? Yes! 2024 was odd.",
    ]
    assert_exact(text, chunks)


def test_a_lower_case_start_is_no_sentence_boundary() -> None:
    # Given a period followed by a lower-case word / When split at 10 bytes / Then only word cuts happen
    chunks = split_text("It is ok. but not here.", max_bytes=12)
    assert [chunk.text for chunk in chunks] == ["It is ok. ", "but not ", "here."]


def test_sentences_are_packed_up_to_5000_bytes_with_exact_offsets() -> None:
    # Given 200 sentences of 60 characters (12,000 bytes)
    text = " ".join(sentence(i) for i in range(200))
    # When split
    chunks = split_text(text)
    # Then 3 chunks within 5,000 bytes, each ending at a sentence end, covering the paragraph in order
    assert len(chunks) == 3
    assert all(len(chunk.text.encode()) <= 5000 for chunk in chunks)
    assert all(chunk.text.rstrip().endswith("follows here.") for chunk in chunks)
    assert "".join(chunk.text for chunk in chunks) == text
    assert_exact(text, chunks)


def test_a_6000_byte_sentence_is_cut_at_a_word_boundary() -> None:
    # Given one sentence of 6,000 bytes without a sentence end inside
    text = ("lorem ipsum " * 500).strip() + "."
    # When split / Then two chunks within 5,000 bytes, the cut after a whole word
    chunks = split_text(text)
    assert len(chunks) == 2
    assert len(chunks[0].text.encode()) <= 5000
    assert chunks[0].text.endswith(" ") and not chunks[1].text.startswith(" ")
    assert chunks[0].text + chunks[1].text == text
    assert_exact(text, chunks)


def test_multi_byte_text_is_never_cut_inside_a_character() -> None:
    # Given 3-byte characters with no spaces (2,100 characters = 6,300 bytes), after an ASCII sentence
    text = "Intro sentence here. " + "日本語" * 700
    # When split
    chunks = split_text(text)
    # Then every chunk is valid UTF-8 within 5,000 bytes and offsets count characters, not bytes
    assert all(len(chunk.text.encode()) <= 5000 for chunk in chunks)
    assert "".join(chunk.text for chunk in chunks) == text
    assert chunks[1].offset == len(chunks[0].text)
    assert_exact(text, chunks)
    # And a 2-byte boundary case: 4,999 ASCII bytes then "é" (2 bytes) is cut before the "é"
    edge = "a" * 4999 + "é" + "b"
    assert [len(chunk.text) for chunk in split_text(edge)] == [4999, 2]


def test_blank_paragraphs_have_no_chunks_and_no_calls(client: FakeComprehend) -> None:
    assert split_text("") == []
    assert split_text("   \n ") == []
    analysis = analyse(client, ["", "  "], "en", ALL)
    assert client.calls == [] and all(p["sentiment"] is None for p in analysis.paragraphs)


def test_an_exclamation_after_a_single_letter_still_ends_a_sentence() -> None:
    text = "We chose plan B! Then it worked. Said J. Doe."
    assert [text[s:e] for s, e in sentence_spans(text)] == ["We chose plan B! ", "Then it worked. ", "Said J. Doe."]


# --- batching -----------------------------------------------------------------------------------------------------


def test_60_paragraphs_are_3_calls_per_feature_not_60(client: FakeComprehend) -> None:
    # Given 60 short paragraphs
    paragraphs = [sentence(i) for i in range(60)]
    # When analysed for the three features
    analysis = analyse(client, paragraphs, "en", ALL, sleep=no_sleep)
    # Then 3 calls per API of 25, 25 and 10 texts, and every paragraph answered
    assert analysis.usage["calls"] == {"BatchDetectSentiment": 3, "BatchDetectKeyPhrases": 3, "BatchDetectEntities": 3}
    assert analysis.usage["textsPerCall"]["BatchDetectKeyPhrases"] == [25, 25, 10]
    assert all(p["sentiment"] == "POSITIVE" and p["keyPhrases"] and not p["errors"] for p in analysis.paragraphs)


def test_only_the_features_asked_for_are_called(client: FakeComprehend) -> None:
    # Given two paragraphs / When only key phrases are asked for / Then one call, sentiment and entities empty
    analysis = analyse(client, ["Alice went to Paris.", "Acme sells things."], "en", {"keyPhrases"})
    assert client.apis() == ["BatchDetectKeyPhrases"]
    assert analysis.paragraphs[0]["sentiment"] is None and analysis.paragraphs[0]["entities"] == []
    assert [p["text"] for p in analysis.paragraphs[0]["keyPhrases"]] == ["Alice", "Paris"]


def test_unknown_features_and_languages_are_refused(client: FakeComprehend) -> None:
    with pytest.raises(ValueError, match="unknown features"):
        analyse(client, ["x"], "en", {"syntax"})
    with pytest.raises(ValueError, match="does not analyse"):
        analyse(client, ["x"], "xx", {"sentiment"})
    assert client.calls == []


# --- long-paragraph sentiment ---------------------------------------------------------------------------------------


def test_a_positive_half_and_a_negative_half_are_mixed(client: FakeComprehend) -> None:
    # Given a paragraph of ~1,200 characters: its first half good, its second half bad
    text = " ".join(sentence(i, "good") for i in range(10)) + " " + " ".join(sentence(i, "bad") for i in range(10))
    # When its sentiment is analysed
    analysis = analyse(client, [text], "en", {"sentiment"})
    # Then it went in groups of at most 500 characters, in one call, and the weighted scores say MIXED
    (call,) = client.calls
    assert len(call[1]) == 3 and all(len(group) <= 500 for group in call[1])
    paragraph = analysis.paragraphs[0]
    assert paragraph["sentiment"] == "MIXED"
    assert paragraph["sentimentScore"] is not None
    assert paragraph["sentimentScore"]["Positive"] > 0.3 and paragraph["sentimentScore"]["Negative"] > 0.3
    assert sum(
        paragraph["sentimentScore"][key] for key in ("Positive", "Negative", "Neutral", "Mixed")
    ) == pytest.approx(1.0)


def test_a_mostly_positive_long_paragraph_is_positive(client: FakeComprehend) -> None:
    # Given 2,400 characters of good and 600 of bad
    text = " ".join([sentence(i, "good") for i in range(40)] + [sentence(i, "bad") for i in range(10)])
    # When analysed / Then POSITIVE (the negative part weighs ~0.2, under the MIXED threshold)
    paragraph = analyse(client, [text], "en", {"sentiment"}).paragraphs[0]
    assert paragraph["sentiment"] == "POSITIVE"
    assert paragraph["sentimentScore"] is not None and paragraph["sentimentScore"]["Negative"] < 0.3


def test_a_paragraph_of_500_characters_is_sent_whole_and_kept_as_answered(client: FakeComprehend) -> None:
    text = ("good " * 100)[:500]
    paragraph = analyse(client, [text], "en", {"sentiment"}).paragraphs[0]
    assert client.calls == [("BatchDetectSentiment", [text])]
    assert paragraph["sentimentScore"] == score(0.9, 0.02, 0.05, 0.03)
    # And 501 characters are two groups
    assert [len(group.text) for group in sentiment_groups(text + "X")] == [500, 1]


def test_aggregation_weights_by_length() -> None:
    # Given a 300-character neutral group and a 100-character negative one
    label, scores = aggregate_sentiment([(300, score(0, 0, 1, 0)), (100, score(0, 1, 0, 0))])
    # Then the mean is weighted 3:1 and the argmax is NEUTRAL
    assert label == "NEUTRAL"
    assert scores == score(0, 0.25, 0.75, 0)


# --- offsets ------------------------------------------------------------------------------------------------------


def test_offsets_in_a_later_chunk_map_back_into_the_paragraph(client: FakeComprehend) -> None:
    # Given a multi-byte paragraph of ~9,000 bytes whose second chunk names Alice in Paris
    filler = " ".join(f"Élan número {i} está aquí y sigue así." for i in range(150))
    text = filler + " Then Alice of Acme visited Paris. Ende."
    assert len(split_text(text)) == 2
    # When key phrases and entities are analysed
    paragraph = analyse(client, [text], "en", {"keyPhrases", "entities"}).paragraphs[0]
    # Then every offset points at its text in the paragraph (character offsets, not bytes)
    assert paragraph["keyPhrases"] and paragraph["entities"]
    for item in [*paragraph["keyPhrases"], *paragraph["entities"]]:
        assert text[item["beginOffset"] : item["endOffset"]] == item["text"]
    assert [(e["text"], e["type"]) for e in paragraph["entities"]] == [
        ("Alice", "PERSON"),
        ("Acme", "ORGANIZATION"),
        ("Paris", "LOCATION"),
    ]
    # And no phrase is reported twice, in the order of the paragraph
    spans = [(p["beginOffset"], p["endOffset"]) for p in paragraph["keyPhrases"]]
    assert spans == sorted(set(spans))


# --- errors -------------------------------------------------------------------------------------------------------


def test_an_item_error_is_retried_in_a_later_batch_then_succeeds(client: FakeComprehend) -> None:
    # Given 30 paragraphs, one answered INTERNAL_SERVER_EXCEPTION twice
    paragraphs = [sentence(i) for i in range(30)]
    paragraphs[3] = "Flaky paragraph is good."
    client.item_errors["Flaky"] = deque(["INTERNAL_SERVER_EXCEPTION", "INTERNAL_SERVER_EXCEPTION"])
    # When analysed for sentiment
    analysis = analyse(client, paragraphs, "en", {"sentiment"}, sleep=no_sleep)
    # Then it rode in the later batches (25, then 5 + the retry, then the second retry alone) and succeeded
    assert analysis.usage["textsPerCall"]["BatchDetectSentiment"] == [25, 6, 1]
    assert analysis.paragraphs[3]["sentiment"] == "POSITIVE" and analysis.paragraphs[3]["errors"] == []
    # And its units were billed once (an answered text), 3 units per short text
    assert analysis.usage["units"]["BatchDetectSentiment"] == 30 * 3


def test_a_non_retryable_error_is_recorded_and_the_rest_goes_on(client: FakeComprehend) -> None:
    # Given a paragraph answered TEXT_SIZE_LIMIT_EXCEEDED
    client.item_errors["Broken"] = deque(["TEXT_SIZE_LIMIT_EXCEEDED"])
    analysis = analyse(client, ["Broken one is good.", "Fine one is bad."], "en", {"sentiment", "keyPhrases"})
    # Then its sentiment has the error, not retried; its key phrases and the other paragraph are answered
    broken, fine = analysis.paragraphs
    assert broken["errors"] == [{"feature": "sentiment", "code": "TEXT_SIZE_LIMIT_EXCEEDED", "message": "item failed"}]
    assert broken["sentiment"] is None and [p["text"] for p in broken["keyPhrases"]] == ["Broken"]
    assert fine["sentiment"] == "NEGATIVE"
    assert client.apis() == ["BatchDetectSentiment", "BatchDetectKeyPhrases"]


def test_a_retryable_error_gives_up_after_3_retries(client: FakeComprehend) -> None:
    client.item_errors["Stuck"] = deque(["ThrottlingException"] * 10)
    analysis = analyse(client, ["Stuck here."], "en", {"entities"})
    assert len(client.calls) == 4
    assert analysis.paragraphs[0]["errors"][0]["code"] == "ThrottlingException"


def test_a_throttled_call_is_retried_with_full_jitter_backoff(client: FakeComprehend) -> None:
    # Given Comprehend throttling the next 3 calls
    client.throttle = 3
    sleeps: list[float] = []
    bounds: list[tuple[float, float]] = []

    def uniform(low: float, high: float) -> float:
        bounds.append((low, high))
        return high / 2

    # When analysed
    analysis = analyse(client, ["Good day."], "en", {"sentiment"}, sleep=sleeps.append, uniform=uniform)
    # Then it slept a jittered draw in [0, 0.5 * 2**n] before each retry and then succeeded
    assert bounds == [(0, 0.5), (0, 1.0), (0, 2.0)]
    assert sleeps == [0.25, 0.5, 1.0]
    assert analysis.paragraphs[0]["sentiment"] == "POSITIVE"
    assert analysis.usage["calls"] == {"BatchDetectSentiment": 4}


def test_throttling_beyond_the_bound_raises(client: FakeComprehend) -> None:
    client.throttle = 100
    sleeps: list[float] = []
    with pytest.raises(ClientError, match="ThrottlingException"):
        analyse(client, ["Good day."], "en", {"sentiment"}, sleep=sleeps.append)
    assert len(sleeps) == insights.MAX_CALL_RETRIES and len(client.calls) == insights.MAX_CALL_RETRIES + 1
    assert all(0 <= s <= insights.BACKOFF_CAP_SECONDS for s in sleeps)


def test_other_client_errors_are_raised_at_once(client: FakeComprehend, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(**_: Any) -> Any:
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "BatchDetectSentiment")

    monkeypatch.setattr(client, "batch_detect_sentiment", refuse)
    with pytest.raises(ClientError, match="AccessDenied"):
        analyse(client, ["Good day."], "en", {"sentiment"}, sleep=no_sleep)


# --- summary, units, language -------------------------------------------------------------------------------------


def test_summary_is_deterministic_with_ties(client: FakeComprehend) -> None:
    # Given paragraphs whose phrases tie in counts, in different cases and orders
    paragraphs = [
        "Zebra and Apple are good.",
        "APPLE Mango and Zebra bad.",
        "Mango Kiwi in Paris, Alice in Paris, Apple.",
    ]
    analysis = analyse(client, paragraphs, "en", ALL)
    # When summarised twice, once from the paragraphs reversed
    summary = summarize(analysis)
    reversed_summary = summarize(analysis._replace(paragraphs=analysis.paragraphs[::-1]))
    # Then counts are case-insensitive, ties alphabetical, the spelling the most frequent (ties alphabetical)
    assert summary == reversed_summary
    assert summary["topKeyPhrases"] == [
        {"text": "Apple", "count": 3},
        {"text": "Mango", "count": 2},
        {"text": "Paris", "count": 2},
        {"text": "Zebra", "count": 2},
        {"text": "Alice", "count": 1},
        {"text": "Kiwi", "count": 1},
    ]
    assert summary["topEntities"] == [
        {"text": "Paris", "type": "LOCATION", "count": 2},
        {"text": "Alice", "type": "PERSON", "count": 1},
    ]
    assert summary["sentimentDistribution"] == {"POSITIVE": 1, "NEGATIVE": 1, "NEUTRAL": 1, "MIXED": 0}
    assert summary["paragraphs"] == 3
    assert summary["calls"] == {"BatchDetectEntities": 1, "BatchDetectKeyPhrases": 1, "BatchDetectSentiment": 1}


def test_summary_keeps_the_top_10() -> None:
    phrases = [{"text": f"W{i:02d}", "score": 1.0, "beginOffset": 0, "endOffset": 3} for i in range(15)]
    paragraph = {"sentiment": None, "sentimentScore": None, "keyPhrases": phrases, "entities": [], "errors": []}
    summary = summarize(insights.Analysis([paragraph], {"calls": {}, "units": {}, "textsPerCall": {}}))  # type: ignore[list-item]
    assert [row["text"] for row in summary["topKeyPhrases"]] == [f"W{i:02d}" for i in range(10)]


def test_units_are_billed_per_text_and_api(client: FakeComprehend) -> None:
    # Given paragraphs of 120 and 450 characters (3 units: the minimum; and 5 units)
    short, long = "a" * 119 + ".", "b" * 449 + "."
    assert (units(short), units(long), units("c" * 20)) == (3, 5, 3)
    # When analysed for sentiment and key phrases
    analysis = analyse(client, [short, long], "en", {"sentiment", "keyPhrases"})
    # Then each API bills 3 + 5 units
    assert analysis.usage["units"] == {"BatchDetectSentiment": 8, "BatchDetectKeyPhrases": 8}
    assert summarize(analysis)["units"] == {"BatchDetectKeyPhrases": 8, "BatchDetectSentiment": 8}


def test_the_dominant_language_comes_from_a_5000_byte_sample(client: FakeComprehend) -> None:
    # Given a long French document
    texts = ["Le chat est la et le chien est la. " * 40] * 20
    # When its language is detected / Then one call on a sample within 5,000 bytes answers the top code
    assert detect_language(client, texts) == "fr"
    ((api, sample),) = client.calls
    assert api == "BatchDetectDominantLanguage" and len(sample) == 1 and len(sample[0].encode()) <= 5000
    with pytest.raises(ValueError, match="no text"):
        detect_language(client, ["  "])
