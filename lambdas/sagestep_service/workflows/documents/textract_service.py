"""What Amazon Textract's asynchronous document analysis accepts and answers (checked 2026-12 against the Textract
developer guide). The API validates submissions against these and the local Textract emulation enforces them."""

from __future__ import annotations

#: File types StartDocumentAnalysis reads, by extension (PDF and TIFF may have many pages; images one).
FORMATS: dict[str, str] = {
    ".pdf": "application/pdf",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
}
MAX_DOCUMENT_BYTES = 500 * 1024 * 1024  #: asynchronous operations, PDF and TIFF
MAX_IMAGE_BYTES = 10 * 1024 * 1024  #: JPEG and PNG
MAX_PAGES = 3000  #: asynchronous operations, PDF and TIFF
#: Languages Textract detects text in (it does not tag the language; Comprehend detects it).
LANGUAGES = frozenset({"en", "de", "fr", "es", "it", "pt"})
MAX_BLOCKS_PER_PAGE = 1000  #: GetDocumentAnalysis answers at most this many blocks a call (MaxResults)
FEATURE_TYPES = ("TABLES", "FORMS", "QUERIES", "SIGNATURES", "LAYOUT")
#: JobStatus of GetDocumentAnalysis; the SNS message's Status is SUCCEEDED, FAILED or ERROR.
JOB_STATUSES = ("IN_PROGRESS", "SUCCEEDED", "FAILED", "PARTIAL_SUCCESS")
LAYOUT_BLOCK_TYPES = (
    "LAYOUT_TITLE",
    "LAYOUT_HEADER",
    "LAYOUT_FOOTER",
    "LAYOUT_SECTION_HEADER",
    "LAYOUT_PAGE_NUMBER",
    "LAYOUT_LIST",
    "LAYOUT_FIGURE",
    "LAYOUT_TABLE",
    "LAYOUT_KEY_VALUE",
    "LAYOUT_TEXT",
)
#: ``JobTag`` and ``ClientRequestToken`` patterns and lengths.
JOB_TAG_MAX = 64
CLIENT_REQUEST_TOKEN_MAX = 64


def format_of(key: str) -> str | None:
    """The MIME type Textract reads a file as, from its extension (case-insensitive), or None."""
    name = key.rsplit("/", 1)[-1].lower()
    dot = name.rfind(".")
    return FORMATS.get(name[dot:]) if dot > 0 else None


#: Default quotas of asynchronous analysis (per account and region; raised on request): jobs in progress at once
#: (more: LimitExceededException) and StartDocumentAnalysis calls a second (more: ProvisionedThroughputExceeded).
MAX_CONCURRENT_JOBS = 100
MAX_STARTS_PER_SECOND = 10
#: The ``API`` of the SNS completion message of StartDocumentAnalysis jobs.
NOTIFICATION_API = "StartDocumentAnalysis"
