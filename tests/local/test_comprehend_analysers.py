"""The local Comprehend's analysers on their own (no server): the sentiment rule, key-phrase offsets, the entity
rules and the language detector, on the cases their docstrings promise."""

from __future__ import annotations

import itertools

import pytest

from sagestep.local.services.comprehend.entities import detect_entities
from sagestep.local.services.comprehend.keyphrases import detect_key_phrases
from sagestep.local.services.comprehend.language import detect_dominant_language
from sagestep.local.services.comprehend.sentiment import classify, scores


@pytest.mark.parametrize(
    ("polarity", "expected"),
    [
        ({"pos": 0.6, "neg": 0.0, "neu": 0.4, "compound": 0.8}, "POSITIVE"),
        ({"pos": 0.0, "neg": 0.5, "neu": 0.5, "compound": -0.7}, "NEGATIVE"),
        ({"pos": 0.0, "neg": 0.0, "neu": 1.0, "compound": 0.0}, "NEUTRAL"),
        ({"pos": 0.3, "neg": 0.25, "neu": 0.45, "compound": 0.1}, "MIXED"),
        ({"pos": 0.4, "neg": 0.1, "neu": 0.5, "compound": 0.6}, "POSITIVE"),  # the weaker polarity under 40%
        ({"pos": 0.05, "neg": 0.05, "neu": 0.9, "compound": 0.0}, "NEUTRAL"),  # both polarities slight
    ],
)
def test_the_sentiment_rule_and_its_scores(polarity: dict[str, float], expected: str) -> None:
    sentiment = classify(polarity)
    result = scores(polarity, sentiment)
    assert sentiment == expected
    assert sum(result.values()) == pytest.approx(1, abs=1e-5)
    assert max(result, key=lambda name: result[name]) == expected.capitalize()


def test_key_phrases_of_a_blank_text_are_none() -> None:
    assert detect_key_phrases("   \n ", "en") == []


@pytest.mark.parametrize("language", ["de", "fr", "es", "ja", "zh", "zh-TW", "ko", "ar", "hi"])
def test_key_phrases_of_other_languages_index_the_text(language: str) -> None:
    text = {
        "de": "Die neue Software der Firma wurde in Berlin vorgestellt. Die neue Software ist schnell.",
        "fr": "Le nouveau logiciel de la société a été présenté à Paris. Le nouveau logiciel est rapide.",
        "es": "El nuevo programa de la empresa se presentó en Madrid. El nuevo programa es rápido.",
        "ja": "新しいソフトウェアが東京で発表されました。 新しいソフトウェアは速いです。",
        "zh": "新软件在北京发布。 新软件很快。",
        "zh-TW": "新軟體在台北發布。 新軟體很快。",
        "ko": "새로운 소프트웨어가 서울에서 발표되었습니다. 새로운 소프트웨어는 빠릅니다.",
        "ar": "تم تقديم البرنامج الجديد في القاهرة. البرنامج الجديد سريع.",
        "hi": "नया सॉफ्टवेयर दिल्ली में प्रस्तुत किया गया। नया सॉफ्टवेयर तेज़ है।",
    }[language]
    phrases = detect_key_phrases(text, language)
    assert phrases
    for phrase in phrases:
        assert text[phrase["BeginOffset"] : phrase["EndOffset"]] == phrase["Text"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("She joined Deutsche Bank in 2019.", {("ORGANIZATION", "Deutsche Bank"), ("DATE", "2019")}),
        ("The University of Oxford is old.", {("ORGANIZATION", "University of Oxford")}),
        ("Mr. Brown flew to New York City.", {("PERSON", "Brown"), ("LOCATION", "New York City")}),
        ("We use Amazon Comprehend at Amazon.", {("COMMERCIAL_ITEM", "Amazon Comprehend"), ("ORGANIZATION", "Amazon")}),
        ("Revenue rose 3.5 percent to €20 billion.", {("QUANTITY", "3.5 percent"), ("QUANTITY", "€20 billion")}),
        ("Due on 2024-06-30 at 5 pm.", {("DATE", "2024-06-30"), ("DATE", "5 pm")}),
        ("He may come on 12 May 2025.", {("DATE", "12 May 2025")}),
        ('They read the novel "War and Peace".', {("TITLE", "War and Peace")}),
        ("The Berlin Marathon was held in Q3 2023.", {("EVENT", "Berlin Marathon"), ("DATE", "Q3 2023")}),
        ("Our office is in Ruritania.", {("LOCATION", "Ruritania")}),
        ("Sarah wrote it in English.", {("PERSON", "Sarah")}),
    ],
)
def test_entity_rules(text: str, expected: set[tuple[str, str]]) -> None:
    entities = detect_entities(text)
    for entity in entities:
        assert text[entity["BeginOffset"] : entity["EndOffset"]] == entity["Text"]
    found = {(entity["Type"], entity["Text"]) for entity in entities}
    assert expected <= found
    assert all(a["EndOffset"] <= b["BeginOffset"] for a, b in itertools.pairwise(entities))


def test_may_the_verb_and_in_english_are_no_entities() -> None:
    assert detect_entities("You may go now, and answer in English.") == []


def test_a_bilingual_text_answers_both_languages_and_a_text_without_letters_a_weak_guess() -> None:
    codes = [
        entry["LanguageCode"]
        for entry in detect_dominant_language(
            "This is the report and it is long. Der Bericht ist nicht fertig und die Zahlen sind falsch."
        )
    ]
    assert set(codes[:2]) == {"en", "de"}
    [guess] = detect_dominant_language("12345 678")
    assert guess["LanguageCode"] == "en" and guess["Score"] < 0.5
