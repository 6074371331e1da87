"""The local Comprehend through a real boto3 client against the emulator (no other emulation): the detection
actions and their batch forms, with Comprehend's shapes, limits and errors, the faults, and the billing counter."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from sagestep.local.emulator import LocalAws
from sagestep.local.services import ServiceRegistry
from sagestep.local.services.comprehend import ComprehendEmulator
from sagestep_service.workflows.documents.comprehend_service import MAX_BATCH_DOCUMENTS, SENTIMENTS, units

NO_RETRIES = Config(retries={"total_max_attempts": 1})
ARTICLE = (
    "Dr. Jane Doe, the chief scientist of Acme Corp., met John Smith in Seattle on Monday, March 5, 2024. "
    "Amazon Web Services paid $1.5 million for the machine learning platform, a 20% increase over 2023. "
    "The machine learning platform now serves 120 customers from Berlin to Tokyo."
)


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAws]:
    with LocalAws(registry=ServiceRegistry([ComprehendEmulator])) as running:
        yield running


@pytest.fixture(scope="module")
def client(aws: LocalAws) -> Any:
    return aws.client("comprehend", config=NO_RETRIES)


@pytest.fixture()
def comprehend(aws: LocalAws, client: Any) -> Iterator[Any]:
    """A Comprehend client without retries (errors are seen, not retried away); usage and faults reset after."""
    yield client
    aws.faults.clear()
    aws.service(ComprehendEmulator).reset_usage()


def error_of(call: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as raised:
        call(**kwargs)
    error: dict[str, Any] = dict(raised.value.response["Error"])
    return error


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I love this phone. The camera is wonderful and the battery lasts for days!", "POSITIVE"),
        ("This was the worst service ever. The staff were rude and I hated every minute.", "NEGATIVE"),
        ("The meeting starts at 10 in room 4 of the main building.", "NEUTRAL"),
        ("The food was delicious, but the service was terrible.", "MIXED"),
        ("I love the design, but I hate the price.", "MIXED"),
    ],
)
def test_sentiment_names_the_clear_class_of_a_text_with_scores_summing_to_one(
    comprehend: Any, text: str, expected: str
) -> None:
    # When a clearly positive, negative, neutral or mixed text is analysed
    answer = comprehend.detect_sentiment(Text=text, LanguageCode="en")

    # Then its class is named, is the most confident one, and the four scores sum to 1
    assert answer["Sentiment"] == expected
    scores = answer["SentimentScore"]
    assert set(scores) == {s.capitalize() for s in SENTIMENTS}
    assert sum(scores.values()) == pytest.approx(1, abs=1e-5)
    assert max(scores, key=scores.get) == expected.capitalize()
    assert all(0 < value < 1 for value in scores.values())


def test_sentiment_reads_only_the_first_500_characters(comprehend: Any) -> None:
    # Given a happy opening, then (past character 500) a furious rest
    opening = "What a wonderful, lovely day, I am so happy. " + "The table stands in the room. " * 16
    assert len(opening) > 500
    text = opening + "I hate this, it is horrible, awful, terrible, disgusting. " * 10

    # Then the answer is the opening's, as Comprehend's
    answer = comprehend.detect_sentiment(Text=text, LanguageCode="en")
    assert answer["Sentiment"] == "POSITIVE"
    truncated = comprehend.detect_sentiment(Text=text[:500], LanguageCode="en")
    assert answer["SentimentScore"] == truncated["SentimentScore"]


def test_key_phrases_index_the_text_exactly_with_scores_in_0_1_every_occurrence_in_order(comprehend: Any) -> None:
    phrases = comprehend.detect_key_phrases(Text=ARTICLE, LanguageCode="en")["KeyPhrases"]

    assert phrases
    for phrase in phrases:
        assert ARTICLE[phrase["BeginOffset"] : phrase["EndOffset"]] == phrase["Text"]
        assert 0 < phrase["Score"] <= 1
    begins = [phrase["BeginOffset"] for phrase in phrases]
    assert begins == sorted(begins)
    assert all(a["EndOffset"] <= b["BeginOffset"] for a, b in itertools.pairwise(phrases))
    texts = [phrase["Text"].lower() for phrase in phrases]
    assert texts.count("machine learning platform") == 2  # both mentions
    assert "amazon web services" in texts


def test_key_phrases_keep_the_text_s_own_spelling_across_line_breaks(comprehend: Any) -> None:
    text = "Quarterly revenue of the cloud\nbusiness grew. Cloud   business margins improved again."
    for phrase in comprehend.detect_key_phrases(Text=text, LanguageCode="en")["KeyPhrases"]:
        assert text[phrase["BeginOffset"] : phrase["EndOffset"]] == phrase["Text"]


def test_entities_have_comprehend_s_types_and_exact_offsets(comprehend: Any) -> None:
    entities = comprehend.detect_entities(Text=ARTICLE, LanguageCode="en")["Entities"]

    for entity in entities:
        assert ARTICLE[entity["BeginOffset"] : entity["EndOffset"]] == entity["Text"]
        assert 0 < entity["Score"] <= 1
    found = {(entity["Type"], entity["Text"]) for entity in entities}
    assert {
        ("PERSON", "Jane Doe"),
        ("ORGANIZATION", "Acme Corp."),
        ("PERSON", "John Smith"),
        ("LOCATION", "Seattle"),
        ("DATE", "Monday, March 5, 2024"),
        ("ORGANIZATION", "Amazon Web Services"),
        ("QUANTITY", "$1.5 million"),
        ("QUANTITY", "20%"),
        ("DATE", "2023"),
        ("QUANTITY", "120 customers"),
        ("LOCATION", "Berlin"),
        ("LOCATION", "Tokyo"),
    } <= found


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("The weather is nice and we are going to the park with the children.", "en"),
        ("Das Wetter ist schön und wir gehen mit den Kindern in den Park.", "de"),
        ("Le temps est beau et nous allons au parc avec les enfants.", "fr"),
        ("El tiempo es bueno y vamos al parque con los niños.", "es"),
        ("Il tempo è bello e andiamo al parco con i bambini.", "it"),
        ("O tempo está bom e vamos ao parque com as crianças.", "pt"),
        ("الطقس جميل ونحن ذاهبون إلى الحديقة", "ar"),
        ("मौसम अच्छा है और हम पार्क जा रहे हैं", "hi"),
        ("天気が良いので、子供たちと公園に行きます。", "ja"),
        ("날씨가 좋아서 아이들과 공원에 갑니다.", "ko"),
        ("天气很好。我们和孩子们去公园。", "zh"),
    ],
)
def test_dominant_language_by_script_or_stop_words(comprehend: Any, text: str, language: str) -> None:
    languages = comprehend.detect_dominant_language(Text=text)["Languages"]
    assert languages[0]["LanguageCode"] == language
    assert 0.5 < languages[0]["Score"] <= 1
    assert [entry["Score"] for entry in languages] == sorted((entry["Score"] for entry in languages), reverse=True)


def test_a_batch_of_25_is_answered_in_order_and_26_is_refused(comprehend: Any) -> None:
    texts = [f"Review {i}: the product is great and I love it." for i in range(MAX_BATCH_DOCUMENTS)]

    answer = comprehend.batch_detect_sentiment(TextList=texts, LanguageCode="en")
    assert [item["Index"] for item in answer["ResultList"]] == list(range(MAX_BATCH_DOCUMENTS))
    assert {item["Sentiment"] for item in answer["ResultList"]} == {"POSITIVE"}
    assert answer["ErrorList"] == []

    for call in (
        comprehend.batch_detect_sentiment,
        comprehend.batch_detect_entities,
        comprehend.batch_detect_key_phrases,
    ):
        error = error_of(call, TextList=[*texts, "one more"], LanguageCode="en")
        assert error["Code"] == "BatchSizeLimitExceededException"
    assert error_of(comprehend.batch_detect_dominant_language, TextList=[*texts, "x"])["Code"] == (
        "BatchSizeLimitExceededException"
    )


def test_an_oversized_document_is_in_error_list_while_the_others_are_answered(comprehend: Any) -> None:
    # Given a batch whose second text is 5,002 UTF-8 bytes (2,501 characters: the limit is on bytes)
    texts = ["Acme Corp. hired Jane Doe.", "é" * 2501, "Berlin is in Germany."]

    answer = comprehend.batch_detect_entities(TextList=texts, LanguageCode="en")

    assert [item["Index"] for item in answer["ResultList"]] == [0, 2]
    assert {e["Text"] for e in answer["ResultList"][1]["Entities"]} == {"Berlin", "Germany"}
    [error] = answer["ErrorList"]
    assert error["Index"] == 1
    assert error["ErrorCode"] == "TEXT_SIZE_LIMIT_EXCEEDED"
    assert "5000 bytes" in error["ErrorMessage"] and "5002 bytes" in error["ErrorMessage"]


def test_single_texts_have_their_api_s_size_limit(comprehend: Any) -> None:
    long_text = "The cat sat on the mat. " * 250  # 6,000 bytes
    error = error_of(comprehend.detect_sentiment, Text=long_text, LanguageCode="en")
    assert error["Code"] == "TextSizeLimitExceededException"
    assert "5000 bytes" in error["Message"]
    assert comprehend.detect_entities(Text=long_text, LanguageCode="en")["Entities"] == []  # 100 KB for entities
    huge = "a" * 100_001
    assert (
        error_of(comprehend.detect_key_phrases, Text=huge, LanguageCode="en")["Code"]
        == "TextSizeLimitExceededException"
    )


def test_a_language_outside_comprehend_s_list_and_an_empty_text_are_refused(aws: LocalAws, comprehend: Any) -> None:
    for call in (comprehend.detect_sentiment, comprehend.detect_key_phrases, comprehend.detect_entities):
        error = error_of(call, Text="Hello there", LanguageCode="ru")
        assert error["Code"] == "ValidationException"
        assert "Value 'ru' at 'languageCode'" in error["Message"]
    assert error_of(comprehend.batch_detect_sentiment, TextList=["Hello"], LanguageCode="xx")["Code"] == (
        "ValidationException"
    )
    # boto3 refuses an empty text itself; a client that sends it gets the service's validation error
    unchecked = aws.client("comprehend", config=Config(retries={"total_max_attempts": 1}, parameter_validation=False))
    assert error_of(unchecked.detect_sentiment, Text="", LanguageCode="en")["Code"] == "ValidationException"
    assert error_of(unchecked.batch_detect_entities, TextList=[], LanguageCode="en")["Code"] == "ValidationException"


def test_throttles_refusals_and_lost_responses_hit_the_detection_actions(aws: LocalAws, comprehend: Any) -> None:
    aws.faults.throttle("BatchDetectSentiment", count=2)
    for _ in range(2):
        error = error_of(comprehend.batch_detect_sentiment, TextList=["good"], LanguageCode="en")
        assert error == {"Code": "ThrottlingException", "Message": "Rate exceeded"}
    assert comprehend.batch_detect_sentiment(TextList=["good"], LanguageCode="en")["ResultList"]

    aws.faults.fail_call("DetectEntities", "AccessDeniedException", "not allowed")
    assert error_of(comprehend.detect_entities, Text="Berlin", LanguageCode="en")["Code"] == "AccessDeniedException"

    aws.faults.lose_response("DetectKeyPhrases")
    assert error_of(comprehend.detect_key_phrases, Text="A new phone", LanguageCode="en")["Code"] == (
        "InternalServerException"
    )
    assert aws.service(ComprehendEmulator).units("DetectKeyPhrases") == 3  # it ran: billed
    assert aws.faults.armed() == []


def test_a_throttled_call_is_retried_by_boto3_s_standard_retries(aws: LocalAws) -> None:
    client = aws.client("comprehend", config=Config(retries={"mode": "standard", "total_max_attempts": 3}))
    aws.faults.throttle("DetectDominantLanguage", message="Rate exceeded")
    try:
        answer = client.detect_dominant_language(Text="This is an English sentence for the test.")
    finally:
        aws.faults.clear()
    assert answer["ResponseMetadata"]["RetryAttempts"] == 1
    assert answer["Languages"][0]["LanguageCode"] == "en"


def test_the_batch_item_fault_fails_one_document_with_an_internal_error(aws: LocalAws, comprehend: Any) -> None:
    aws.faults.comprehend.fail_batch_item(1, operation="BatchDetectKeyPhrases")

    # A batch call of another action does not take it
    assert comprehend.batch_detect_entities(TextList=["a", "b"], LanguageCode="en")["ErrorList"] == []
    answer = comprehend.batch_detect_key_phrases(TextList=["New phones", "Old phones", "Red cars"], LanguageCode="en")

    assert [item["Index"] for item in answer["ResultList"]] == [0, 2]
    assert [(e["Index"], e["ErrorCode"]) for e in answer["ErrorList"]] == [(1, "INTERNAL_SERVER_ERROR")]
    assert aws.service(ComprehendEmulator).usage()["BatchDetectKeyPhrases"] == {"units": 6, "texts": 2}
    assert aws.faults.armed() == []


def test_every_analysed_text_is_billed_in_units_of_100_characters_at_least_3(aws: LocalAws, comprehend: Any) -> None:
    emulator = aws.service(ComprehendEmulator)
    comprehend.detect_sentiment(Text="short", LanguageCode="en")  # 3 units (the minimum)
    comprehend.detect_sentiment(Text="x " * 520, LanguageCode="en")  # 1,040 characters: 11 units
    comprehend.batch_detect_entities(TextList=["a" * 450, "é" * 2600, "b"], LanguageCode="en")  # 5 + 3; the 2nd refused

    assert emulator.units("DetectSentiment") == 3 + 11 == units("short") + units("x " * 520)
    assert emulator.usage() == {
        "DetectSentiment": {"units": 14, "texts": 2},
        "BatchDetectEntities": {"units": 8, "texts": 2},
    }
    assert emulator.units() == 22
    error_of(comprehend.detect_sentiment, Text="x" * 6000, LanguageCode="en")
    assert emulator.units() == 22  # refused calls are not billed


def test_moto_s_other_comprehend_actions_are_kept(comprehend: Any) -> None:
    assert comprehend.list_entity_recognizers()["EntityRecognizerPropertiesList"] == []
    assert "Entities" in comprehend.detect_pii_entities(Text="My name is Jane", LanguageCode="en")
