"""What Amazon Translate's batch jobs accept (checked 2026-12 against the Translate developer guide): languages,
content types, limits. The API validates submissions against these, and the local Translate emulation enforces
the same ones, so that a job the local mode accepts is one AWS accepts.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Language codes Amazon Translate supports (source and target); ``auto`` is a source only (Comprehend detects it).
LANGUAGES: dict[str, str] = {
    "af": "Afrikaans", "sq": "Albanian", "am": "Amharic", "ar": "Arabic", "hy": "Armenian", "az": "Azerbaijani",
    "bn": "Bengali", "bs": "Bosnian", "bg": "Bulgarian", "ca": "Catalan", "zh": "Chinese (Simplified)",
    "zh-TW": "Chinese (Traditional)", "hr": "Croatian", "cs": "Czech", "da": "Danish", "fa-AF": "Dari",
    "nl": "Dutch", "en": "English", "et": "Estonian", "fa": "Farsi (Persian)", "tl": "Filipino, Tagalog",
    "fi": "Finnish", "fr": "French", "fr-CA": "French (Canada)", "ka": "Georgian", "de": "German", "el": "Greek",
    "gu": "Gujarati", "ht": "Haitian Creole", "ha": "Hausa", "he": "Hebrew", "hi": "Hindi", "hu": "Hungarian",
    "is": "Icelandic", "id": "Indonesian", "ga": "Irish", "it": "Italian", "ja": "Japanese", "kn": "Kannada",
    "kk": "Kazakh", "ko": "Korean", "lv": "Latvian", "lt": "Lithuanian", "mk": "Macedonian", "ms": "Malay",
    "ml": "Malayalam", "mt": "Maltese", "mr": "Marathi", "mn": "Mongolian", "no": "Norwegian (Bokmål)",
    "ps": "Pashto", "pl": "Polish", "pt": "Portuguese (Brazil)", "pt-PT": "Portuguese (Portugal)",
    "pa": "Punjabi", "ro": "Romanian", "ru": "Russian", "sr": "Serbian", "si": "Sinhala", "sk": "Slovak",
    "sl": "Slovenian", "so": "Somali", "es": "Spanish", "es-MX": "Spanish (Mexico)", "sw": "Swahili",
    "sv": "Swedish", "ta": "Tamil", "te": "Telugu", "th": "Thai", "tr": "Turkish", "uk": "Ukrainian",
    "ur": "Urdu", "uz": "Uzbek", "vi": "Vietnamese", "cy": "Welsh",
}  # fmt: skip
AUTO = "auto"

#: Target languages for which Translate offers the formality setting.
FORMALITY_LANGUAGES = frozenset({"nl", "fr", "fr-CA", "de", "hi", "it", "ja", "ko", "pt-PT", "es", "es-MX"})

MAX_TARGET_LANGUAGES = 10  #: per batch job
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024  #: per document (any content type)
MAX_JOB_BYTES = 5 * 1024**3  #: all documents of one batch job
MAX_JOB_DOCUMENTS = 1_000_000  #: documents of one batch job
MAX_CONCURRENT_JOBS = 10  #: default quota: batch jobs SUBMITTED or IN_PROGRESS at once, per account and region
MAX_STARTS_PER_SECOND = 5  #: default quota: StartTextTranslationJob calls per second

#: Batch job statuses; the last four end a job.
JOB_STATUSES = ("SUBMITTED", "IN_PROGRESS", "STOP_REQUESTED", "COMPLETED", "COMPLETED_WITH_ERROR", "FAILED", "STOPPED")
TERMINAL_STATUSES = frozenset({"COMPLETED", "COMPLETED_WITH_ERROR", "FAILED", "STOPPED"})

#: The EventBridge event Translate emits when a batch job changes state (source ``aws.translate``; detail
#: ``jobId``, ``jobStatus``).
EVENT_SOURCE = "aws.translate"
EVENT_DETAIL_TYPE = "Translate TextTranslationJob State Change"


@dataclass(frozen=True)
class ContentType:
    """One content type of batch translation: its MIME type (the job's ``InputDataConfig.ContentType``), a short
    name (``slug``, used in staging prefixes and job names) and the file extensions sagestep sorts into it."""

    slug: str
    mime: str
    extensions: tuple[str, ...]


CONTENT_TYPES: tuple[ContentType, ...] = (
    ContentType("text", "text/plain", (".txt",)),
    ContentType("html", "text/html", (".html", ".htm")),
    ContentType("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", (".docx",)),
    ContentType("pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation", (".pptx",)),
    ContentType("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (".xlsx",)),
    ContentType("xliff", "application/x-xliff+xml", (".xlf", ".xliff")),
)
BY_MIME = {content_type.mime: content_type for content_type in CONTENT_TYPES}
BY_SLUG = {content_type.slug: content_type for content_type in CONTENT_TYPES}
BY_EXTENSION = {extension: content_type for content_type in CONTENT_TYPES for extension in content_type.extensions}


def content_type_of(key: str) -> ContentType | None:
    """The content type a file is translated as, from its extension (case-insensitive), or None."""
    name = key.rsplit("/", 1)[-1].lower()
    dot = name.rfind(".")
    return BY_EXTENSION.get(name[dot:]) if dot > 0 else None


def output_folder(account_id: str, job_id: str) -> str:
    """The folder Translate writes a job's output into, under the job's ``OutputDataConfig.S3Uri``."""
    return f"{account_id}-TranslateText-{job_id}/"


def details_key(language: str) -> str:
    """The auxiliary details file of one target language, under the job's output folder."""
    return f"details/{language}.auxiliary-translation-details.json"
