"""The API of the local Translate (JSON protocol), answered through moto's server.

The emulator binds this class to itself (a subclass with ``emulator`` set), so the actions reach its
translator, quotas and workers without module state. Generic per-call faults (``throttle``, ``fail_call``,
``lose_response``) hit every action by its name, as they do SageMaker's; a throttle answers with Translate's
throttling error, ``TooManyRequestsException``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from moto.core.responses import ActionResult, BaseResponse

from sagestep.local.services.json_protocol import with_call_faults
from sagestep.local.services.translate.models import (
    InvalidParameterValueException,
    InvalidRequestException,
    ResourceNotFoundException,
    TranslateBackend,
    UnsupportedLanguagePairException,
    translate_backends,
)
from sagestep_service.workflows.translation.translate_service import (
    AUTO,
    BY_MIME,
    FORMALITY_LANGUAGES,
    LANGUAGES,
    MAX_TARGET_LANGUAGES,
)

if TYPE_CHECKING:
    from sagestep.local.services.translate import TranslateEmulator

SETTINGS = {"Formality": {"FORMAL", "INFORMAL"}, "Profanity": {"MASK"}, "Brevity": {"ON"}}


class TranslateResponse(BaseResponse):
    emulator: ClassVar[TranslateEmulator]

    def __init__(self) -> None:
        super().__init__(service_name="translate")

    @property
    def backend(self) -> TranslateBackend:
        backend: TranslateBackend = translate_backends[self.current_account][self.region]
        return backend

    def call_action(self) -> Any:
        return with_call_faults(
            self.emulator.context.faults,
            self._get_action(),
            super().call_action,
            throttle_code="TooManyRequestsException",
            lost_code="InternalServerException",
        )

    # Batch jobs ----------------------------------------------------------------------------------------

    def start_text_translation_job(self) -> ActionResult:
        request = {name: self._get_param(name) for name in START_PARAMETERS}
        job_id, status = self.emulator.start_job(
            self.backend, self.current_account, self.region, validate_start(request)
        )
        return ActionResult({"JobId": job_id, "JobStatus": status})

    def describe_text_translation_job(self) -> ActionResult:
        with self.backend.lock:
            job = self.backend.job(self._get_param("JobId"))
            return ActionResult({"TextTranslationJobProperties": job.properties()})

    def list_text_translation_jobs(self) -> ActionResult:
        with self.backend.lock:
            jobs, token = self.backend.list_jobs(
                self._get_param("Filter"), self._get_param("NextToken"), self._get_param("MaxResults")
            )
            result: dict[str, Any] = {"TextTranslationJobPropertiesList": [job.properties() for job in jobs]}
        if token is not None:
            result["NextToken"] = token
        return ActionResult(result)

    def stop_text_translation_job(self) -> ActionResult:
        job = self.emulator.stop_job(self.backend, self._get_param("JobId"))
        return ActionResult({"JobId": job.job_id, "JobStatus": job.status})

    # Real-time translation and languages ---------------------------------------------------------------

    def translate_text(self) -> ActionResult:
        source, target = self._get_param("SourceLanguageCode"), self._get_param("TargetLanguageCode")
        check_languages(source, [target])
        text = self._get_param("Text") or ""
        terminologies = self.emulator.terminologies(self.backend, self._get_param("TerminologyNames") or [])
        translated, detected, applied = self.emulator.translate_texts([text], source, target, terminologies)
        result: dict[str, Any] = {
            "TranslatedText": translated[0],
            "SourceLanguageCode": detected,
            "TargetLanguageCode": target,
        }
        if applied:
            result["AppliedTerminologies"] = [
                {"Name": a["name"], "Terms": [{"SourceText": t["sourceText"], "TargetText": t["targetText"]}]}
                for a in applied
                for t in a["terms"]
            ]
        settings = self._get_param("Settings")
        if settings:
            result["AppliedSettings"] = settings
        return ActionResult(result)

    def list_languages(self) -> ActionResult:
        return ActionResult(
            {
                "Languages": [{"LanguageName": name, "LanguageCode": code} for code, name in LANGUAGES.items()],
                "DisplayLanguageCode": self._get_param("DisplayLanguageCode") or "en",
            }
        )

    # Terminologies -----------------------------------------------------------------------------------

    def import_terminology(self) -> ActionResult:
        data = self._get_param("TerminologyData") or {}
        terminology = self.emulator.import_terminology(
            self.backend,
            self.current_account,
            self.region,
            name=self._get_param("Name"),
            description=self._get_param("Description") or "",
            data=data,
        )
        return ActionResult({"TerminologyProperties": terminology.properties()})

    def list_terminologies(self) -> ActionResult:
        with self.backend.lock:
            terminologies = sorted(self.backend.terminologies.values(), key=lambda t: t.name)
            return ActionResult({"TerminologyPropertiesList": [t.properties() for t in terminologies]})


START_PARAMETERS = (
    "JobName",
    "InputDataConfig",
    "OutputDataConfig",
    "DataAccessRoleArn",
    "SourceLanguageCode",
    "TargetLanguageCodes",
    "TerminologyNames",
    "ParallelDataNames",
    "ClientToken",
    "Settings",
)


def check_languages(source: str | None, targets: list[str]) -> None:
    """Translate's answer to a language code it does not know (``auto`` is a source only)."""
    for code in targets:
        if code not in LANGUAGES:
            raise UnsupportedLanguagePairException(f"Unsupported language pair: {source} to {code}.")
    if source != AUTO and source not in LANGUAGES:
        raise UnsupportedLanguagePairException(f"Unsupported language pair: {source} to {','.join(targets)}.")


def validate_start(request: dict[str, Any]) -> dict[str, Any]:
    """The StartTextTranslationJob request, checked as Translate checks it before accepting the job."""
    input_config = request.get("InputDataConfig") or {}
    output_config = request.get("OutputDataConfig") or {}
    for name, config in (("InputDataConfig", input_config), ("OutputDataConfig", output_config)):
        uri = str(config.get("S3Uri") or "")
        if not uri.startswith("s3://") or len(uri) <= 5:
            raise InvalidRequestException(f"{name}.S3Uri must be an S3 URI (s3://bucket/prefix), not {uri!r}.")
    if input_config.get("ContentType") not in BY_MIME:
        raise InvalidRequestException(
            f"The content type {input_config.get('ContentType')!r} is not supported. Use one of: " + ", ".join(BY_MIME)
        )
    if not str(request.get("DataAccessRoleArn") or "").startswith("arn:"):
        raise InvalidParameterValueException("DataAccessRoleArn must be the ARN of an IAM role.")
    targets = list(request.get("TargetLanguageCodes") or [])
    source = request.get("SourceLanguageCode")
    if not targets or len(targets) > MAX_TARGET_LANGUAGES:
        raise InvalidParameterValueException(
            f"A batch job translates into 1 to {MAX_TARGET_LANGUAGES} target languages, not {len(targets)}."
        )
    check_languages(source, targets)
    if len(set(targets)) != len(targets) or source in targets:
        raise InvalidParameterValueException("The target languages must be distinct and differ from the source.")
    settings = request.get("Settings") or {}
    for name, value in settings.items():
        if value not in SETTINGS.get(name, set()):
            raise InvalidParameterValueException(f"{value!r} is not a valid value of Settings.{name}.")
    if settings.get("Formality") and not set(targets) <= FORMALITY_LANGUAGES:
        raise InvalidRequestException(
            "Formality is not supported for the target languages "
            + ", ".join(sorted(set(targets) - FORMALITY_LANGUAGES))
            + "."
        )
    if request.get("ParallelDataNames"):
        raise ResourceNotFoundException(
            f"The parallel data {request['ParallelDataNames'][0]} could not be found (the local Translate has none)."
        )
    return request
