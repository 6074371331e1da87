"""Comprehend's detection actions (JSON protocol) in moto's server: the single-text ``Detect*`` and the
``BatchDetect*`` of sentiment, key phrases, entities and dominant language.

Each action checks its request as Comprehend does, then runs the local analyser of :mod:`.sentiment`,
:mod:`.keyphrases`, :mod:`.entities` or :mod:`.language`:

* a ``LanguageCode`` outside the API's enum is a ``ValidationException`` ("1 validation error detected: Value 'xx' at
  'languageCode' failed to satisfy constraint: Member must satisfy enum value set: [...]", as Comprehend answers; a
  code of the enum that one analysis does not support would be ``UnsupportedLanguageException``, but the three
  analyses with a language support the whole enum), and so is an empty ``Text`` or ``TextList`` (boto3 refuses
  these before sending them; other clients may not);
* a single text over its limit (5,000 UTF-8 bytes for DetectSentiment, 100 KB for the others) is a
  ``TextSizeLimitExceededException`` naming both sizes;
* a batch of more than 25 texts is a ``BatchSizeLimitExceededException``; in a batch, a text over 5,000 bytes is
  reported in ``ErrorList`` (``ErrorCode`` ``TEXT_SIZE_LIMIT_EXCEEDED``) and the others are answered in
  ``ResultList``, both in input order with the input's ``Index``.

Every text analysed is billed (:meth:`ComprehendEmulator.bill`); refused texts and calls are not.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from moto.core.responses import ActionResult

from sagestep.local.comprehend_faults import INTERNAL_ERROR_CODE
from sagestep.local.services.comprehend.entities import detect_entities
from sagestep.local.services.comprehend.keyphrases import detect_key_phrases
from sagestep.local.services.comprehend.language import detect_dominant_language
from sagestep.local.services.comprehend.sentiment import detect_sentiment
from sagestep.local.services.json_protocol import json_error as protocol_error
from sagestep_service.workflows.documents.comprehend_service import (
    LANGUAGES,
    MAX_BATCH_DOCUMENTS,
    MAX_DETECT_BYTES,
    MAX_DOCUMENT_BYTES,
    MAX_SENTIMENT_BYTES,
)

if TYPE_CHECKING:
    from sagestep.local.services.comprehend import ComprehendEmulator

#: The ``ErrorCode`` of a batch document over :data:`MAX_DOCUMENT_BYTES`.
TEXT_SIZE_ERROR_CODE = "TEXT_SIZE_LIMIT_EXCEEDED"
#: The enum of ``LanguageCode`` in the order Comprehend's validation message lists it.
_ENUM_ORDER = ("hi", "de", "zh-TW", "ko", "pt", "en", "it", "fr", "zh", "es", "ar", "ja")


class ComprehendError(Exception):
    """A refused request: the error ``code`` and ``message`` Comprehend answers, with its HTTP status."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


@dataclass(frozen=True)
class Analysis:
    """One detection: its single and batch action, its analyser (text, language -> result fields) and limits."""

    action: str
    batch_action: str
    analyse: Callable[[str, str], dict[str, Any]]
    max_bytes: int
    #: The languages it supports (None: it takes no ``LanguageCode``).
    languages: frozenset[str] | None


ANALYSES = (
    Analysis(
        "DetectSentiment",
        "BatchDetectSentiment",
        lambda text, _: detect_sentiment(text),
        MAX_SENTIMENT_BYTES,
        LANGUAGES,
    ),
    Analysis(
        "DetectKeyPhrases",
        "BatchDetectKeyPhrases",
        lambda text, language: {"KeyPhrases": detect_key_phrases(text, language)},
        MAX_DETECT_BYTES,
        LANGUAGES,
    ),
    Analysis(
        "DetectEntities",
        "BatchDetectEntities",
        lambda text, _: {"Entities": detect_entities(text)},
        MAX_DETECT_BYTES,
        LANGUAGES,
    ),
    Analysis(
        "DetectDominantLanguage",
        "BatchDetectDominantLanguage",
        lambda text, _: {"Languages": detect_dominant_language(text)},
        MAX_DETECT_BYTES,
        None,
    ),
)
#: Every action the local Comprehend answers itself (moto answers the rest of Comprehend's API).
ACTIONS = frozenset(name for analysis in ANALYSES for name in (analysis.action, analysis.batch_action))


def _params(response: Any) -> dict[str, Any]:
    try:
        body = json.loads(response.body or "{}")
    except ValueError:
        raise ComprehendError("SerializationException", "The request body is not valid JSON.") from None
    return body if isinstance(body, dict) else {}


def _check_language(analysis: Analysis, language: Any) -> str:
    if analysis.languages is None:
        return ""
    if language not in LANGUAGES:
        enum = ", ".join(code for code in _ENUM_ORDER if code in LANGUAGES)
        raise ComprehendError(
            "ValidationException",
            f"1 validation error detected: Value '{language}' at 'languageCode' failed to satisfy constraint: "
            f"Member must satisfy enum value set: [{enum}]",
        )
    if language not in analysis.languages:
        raise ComprehendError("UnsupportedLanguageException", f"Unsupported language: {language}")
    return str(language)


def _empty(field: str) -> ComprehendError:
    return ComprehendError(
        "ValidationException",
        f"1 validation error detected: Value at '{field}' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1",
    )


def _size_message(limit: int, size: int) -> str:
    return (
        f"Input text size exceeds limit. Max length of request text allowed is {limit} bytes while in this request "
        f"the text size is {size} bytes"
    )


def detect(emulator: ComprehendEmulator, analysis: Analysis, response: Any) -> ActionResult:
    """A single-text ``Detect*`` call."""
    params = _params(response)
    language = _check_language(analysis, params.get("LanguageCode"))
    text = params.get("Text")
    if not isinstance(text, str) or not text:
        raise _empty("text")
    size = len(text.encode("utf-8"))
    if size > analysis.max_bytes:
        raise ComprehendError("TextSizeLimitExceededException", _size_message(analysis.max_bytes, size))
    result = analysis.analyse(text, language)
    emulator.bill(analysis.action, [text])
    return ActionResult(result)


def batch_detect(emulator: ComprehendEmulator, analysis: Analysis, response: Any) -> ActionResult:
    """A ``BatchDetect*`` call: every document answered in ``ResultList`` or reported in ``ErrorList``."""
    params = _params(response)
    language = _check_language(analysis, params.get("LanguageCode"))
    texts = params.get("TextList")
    if not isinstance(texts, list) or not texts:
        raise _empty("textList")
    if any(not isinstance(text, str) or not text for text in texts):
        raise _empty("textList.member")
    if len(texts) > MAX_BATCH_DOCUMENTS:
        raise ComprehendError(
            "BatchSizeLimitExceededException",
            f"The number of documents in the request exceeds the limit of {MAX_BATCH_DOCUMENTS}: {len(texts)}.",
        )
    injected = emulator.context.faults.comprehend.take_batch_item_failure(analysis.batch_action)
    results: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    analysed: list[str] = []
    for index, text in enumerate(texts):
        size = len(text.encode("utf-8"))
        if injected is not None and injected.index == index:
            errors.append({"Index": index, "ErrorCode": INTERNAL_ERROR_CODE, "ErrorMessage": injected.message})
        elif size > MAX_DOCUMENT_BYTES:
            errors.append(
                {
                    "Index": index,
                    "ErrorCode": TEXT_SIZE_ERROR_CODE,
                    "ErrorMessage": _size_message(MAX_DOCUMENT_BYTES, size),
                }
            )
        else:
            results.append({"Index": index, **analysis.analyse(text, language)})
            analysed.append(text)
    emulator.bill(analysis.batch_action, analysed)
    return ActionResult({"ResultList": results, "ErrorList": errors})


def json_error(status: int, code: str, message: str) -> tuple[int, dict[str, str], str]:
    """An error as Comprehend's JSON protocol reports it (built here: some codes are no error shape of the model)."""
    return protocol_error(status, code, message, message_key="Message")


def action_methods(emulator: ComprehendEmulator) -> dict[str, Callable[[Any], Any]]:
    """The response methods (by moto's snake-case name) of :data:`ACTIONS`, bound to ``emulator``."""
    methods: dict[str, Callable[[Any], Any]] = {}
    for analysis in ANALYSES:
        for name, handler in ((analysis.action, detect), (analysis.batch_action, batch_detect)):
            methods[_snake(name)] = _method(emulator, analysis, handler)
    return methods


def _method(
    emulator: ComprehendEmulator,
    analysis: Analysis,
    handler: Callable[[ComprehendEmulator, Analysis, Any], ActionResult],
) -> Callable[[Any], Any]:
    def method(response: Any) -> Any:
        try:
            return handler(emulator, analysis, response)
        except ComprehendError as error:
            # moto reads the status of what an action method returns from its headers.
            status, headers, body = json_error(error.status, error.code, error.message)
            return body, {**headers, "status": status}

    return method


def _snake(action: str) -> str:
    """``BatchDetectKeyPhrases`` -> ``batch_detect_key_phrases`` (moto's name of an action's method)."""
    return "".join("_" + c.lower() if c.isupper() else c for c in action).lstrip("_")
