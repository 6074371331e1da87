"""The local Translate through a real boto3 client against the emulator (no SageMaker emulation): jobs over
documents in the emulator's S3, their output layout and details files, statuses, quotas, faults and events."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docx
import pytest
from botocore.config import Config

from sagestep.demo.translation_samples import write_samples
from sagestep.local.emulator import LocalAws
from sagestep.local.faults import ArmedFault, Faults
from sagestep.local.services import ServiceRegistry
from sagestep.local.services.translate import TranslateEmulator
from sagestep_service.workflows.translation.translate_service import (
    BY_SLUG,
    EVENT_DETAIL_TYPE,
    TERMINAL_STATUSES,
    content_type_of,
    details_key,
    output_folder,
)

BUCKET = "translate-data"
ROLE = "arn:aws:iam::123456789012:role/TranslateAccess"


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAws]:
    with LocalAws(registry=ServiceRegistry([TranslateEmulator])) as running:
        running.client("s3").create_bucket(Bucket=BUCKET)
        yield running


@pytest.fixture()
def translate(aws: LocalAws) -> Iterator[Any]:
    """The Translate client; quotas high unless a test lowers them, faults and stray jobs gone after each test."""
    emulator = aws.service(TranslateEmulator)
    emulator.max_concurrent_jobs, emulator.max_starts_per_second = 10, 1000
    client = aws.client("translate", config=Config(retries={"total_max_attempts": 1}))  # errors not retried away
    yield client
    aws.faults.clear()
    with emulator.backend().lock:
        active = [job.job_id for job in emulator.backend().jobs.values() if not job.terminal]
    for job_id in active:
        client.stop_text_translation_job(JobId=job_id)
    assert aws.wait_idle(20)


def put(aws: LocalAws, files: dict[str, bytes]) -> None:
    for key, body in files.items():
        aws.client("s3").put_object(Bucket=BUCKET, Key=key, Body=body)


def start(translate: Any, prefix: str, slug: str, targets: list[str] | None = None, **extra: Any) -> str:
    answer = translate.start_text_translation_job(
        InputDataConfig={"S3Uri": f"s3://{BUCKET}/{prefix}", "ContentType": BY_SLUG[slug].mime},
        OutputDataConfig={"S3Uri": f"s3://{BUCKET}/output/"},
        DataAccessRoleArn=ROLE,
        SourceLanguageCode=extra.pop("SourceLanguageCode", "en"),
        TargetLanguageCodes=targets or ["de"],
        **extra,
    )
    assert answer["JobStatus"] == "SUBMITTED"
    job_id: str = answer["JobId"]
    return job_id


def wait(translate: Any, job_id: str, statuses: frozenset[str] = TERMINAL_STATUSES) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        job: dict[str, Any] = translate.describe_text_translation_job(JobId=job_id)["TextTranslationJobProperties"]
        if job["JobStatus"] in statuses:
            return job
        time.sleep(0.02)
    raise AssertionError(f"job {job_id} is still {job['JobStatus']}")


def output(aws: LocalAws, job_id: str, name: str) -> bytes:
    key = f"output/{output_folder(aws.account_id, job_id)}{name}"
    body: bytes = aws.client("s3").get_object(Bucket=BUCKET, Key=key)["Body"].read()
    return body


def details(aws: LocalAws, job_id: str, language: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(output(aws, job_id, details_key(language)))
    return loaded


def test_jobs_over_a_staged_folder_of_every_content_type_complete_with_translate_s_output_layout(
    aws: LocalAws, translate: Any, tmp_path: Path
) -> None:
    # Given the samples staged as sagestep stages them: one flat folder per content type (the .md is not staged)
    staged: dict[str, list[str]] = {}
    for index, path in enumerate(write_samples(tmp_path), start=1):
        content_type = content_type_of(path.name)
        if content_type is not None:
            name = f"{index:06d}{path.suffix}"
            put(aws, {f"staged/mixed/{content_type.slug}/{name}": path.read_bytes()})
            staged.setdefault(content_type.slug, []).append(name)
    put(aws, {"staged/mixed/text/more/000099.txt": b"Second file\n"})  # a subfolder below the input prefix
    staged["text"].append("more/000099.txt")

    # When one job per content type runs into German and French
    jobs = {slug: start(translate, f"staged/mixed/{slug}/", slug, ["de", "fr"]) for slug in staged}
    finished = {slug: wait(translate, job_id) for slug, job_id in jobs.items()}

    # Then each completes, with every document translated into each language and one details file per language
    assert {slug: job["JobStatus"] for slug, job in finished.items()} == dict.fromkeys(staged, "COMPLETED")
    s3 = aws.client("s3")
    for slug, job_id in jobs.items():
        listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=f"output/{output_folder(aws.account_id, job_id)}")
        names = sorted(item["Key"].split(job_id + "/", 1)[1] for item in listed["Contents"])
        expected = [f"{lang}.{name}" for lang in ("de", "fr") for name in staged[slug]]
        assert names == sorted([*expected, details_key("de"), details_key("fr")])
        assert finished[slug]["JobDetails"] == {
            "TranslatedDocumentsCount": len(staged[slug]),
            "DocumentsWithErrorsCount": 0,
            "InputDocumentsCount": len(staged[slug]),
        }
        french = details(aws, job_id, "fr")
        assert french["targetLanguageCode"] == "fr" and french["sourceLanguageCode"] == "en"
        assert int(french["charactersTranslated"]) > 0
        assert (french["documentCountWithCustomerError"], french["documentCountWithServerError"]) == ("0", "0")
        assert french["inputDataPrefix"] == f"s3://{BUCKET}/staged/mixed/{slug}/"
        assert french["outputDataPrefix"] == f"s3://{BUCKET}/output/{output_folder(aws.account_id, job_id)}"
        assert [d["targetFile"] for d in french["details"]] == [f"fr.{name}" for name in sorted(staged[slug])]
    assert output(aws, jobs["text"], "de.more/000099.txt") == "[de|Séçóñd fílé]\n".encode()
    report = docx.Document(io.BytesIO(output(aws, jobs["docx"], "fr.000001.docx")))
    assert report.paragraphs[0].text == "[fr|Qúártérlý répórt]"


def test_a_corrupt_document_and_a_file_fault_end_the_job_completed_with_error(aws: LocalAws, translate: Any) -> None:
    put(aws, {"partial/a.docx": _docx("Fine"), "partial/b.docx": b"not a docx", "partial/c.docx": _docx("Hit")})
    aws.faults.translate.fail_file("c.*", "disk gone")

    job = wait(translate, start(translate, "partial/", "docx"))

    assert job["JobStatus"] == "COMPLETED_WITH_ERROR"
    assert job["JobDetails"]["DocumentsWithErrorsCount"] == 2
    german = details(aws, job["JobId"], "de")
    assert (german["documentCountWithCustomerError"], german["documentCountWithServerError"]) == ("1", "1")
    errors = {d["sourceFile"]: d["auxiliaryData"]["error"] for d in german["details"] if "targetFile" not in d}
    assert errors["b.docx"]["errorCode"] == "UNSUPPORTED_DOCUMENT"
    assert errors["c.docx"] == {"errorCode": "INTERNAL_SERVER_ERROR", "errorMessage": "disk gone"}


def test_an_xliff_2_file_is_a_per_file_error_and_all_files_failing_fails_the_job(aws: LocalAws, translate: Any) -> None:
    put(aws, {"xliff2/strings.xlf": b'<xliff version="2.0" xmlns="urn:oasis:names:tc:xliff:document:2.0"/>'})
    job = wait(translate, start(translate, "xliff2/", "xliff"))
    assert job["JobStatus"] == "FAILED" and "All documents failed" in job["Message"]
    (error,) = details(aws, job["JobId"], "de")["details"]
    assert error["auxiliaryData"]["error"]["errorCode"] == "UNSUPPORTED_XLIFF_VERSION"


def test_a_failure_fault_or_an_empty_input_fails_the_job_with_a_message(aws: LocalAws, translate: Any) -> None:
    put(aws, {"ok/a.txt": b"hello"})
    aws.faults.translate.fail_next_job("The KMS key is disabled.")
    failed = wait(translate, start(translate, "ok/", "text"))
    assert (failed["JobStatus"], failed["Message"]) == ("FAILED", "The KMS key is disabled.")
    assert "EndTime" in failed
    empty = wait(translate, start(translate, "nothing-here/", "text"))
    assert empty["JobStatus"] == "FAILED" and "has no documents" in empty["Message"]
    assert wait(translate, start(translate, "ok/", "text"))["JobStatus"] == "COMPLETED"  # the fault fired once


def test_a_hanging_job_is_stopped(aws: LocalAws, translate: Any) -> None:
    put(aws, {"hang/a.txt": b"hello"})
    aws.faults.translate.hang_next_job()
    job_id = start(translate, "hang/", "text")
    wait(translate, job_id, frozenset({"IN_PROGRESS"}))
    time.sleep(0.2)
    assert translate.describe_text_translation_job(JobId=job_id)["TextTranslationJobProperties"]["JobStatus"] == (
        "IN_PROGRESS"
    )
    assert translate.stop_text_translation_job(JobId=job_id)["JobStatus"] == "STOP_REQUESTED"
    assert wait(translate, job_id)["JobStatus"] == "STOPPED"


def test_the_same_client_token_returns_the_same_job_and_starts_nothing(aws: LocalAws, translate: Any) -> None:
    put(aws, {"token/a.txt": b"hello"})
    first = start(translate, "token/", "text", ClientToken="retry-me-0001")
    wait(translate, first)
    again = translate.start_text_translation_job(
        InputDataConfig={"S3Uri": f"s3://{BUCKET}/token/", "ContentType": "text/plain"},
        OutputDataConfig={"S3Uri": f"s3://{BUCKET}/output/"},
        DataAccessRoleArn=ROLE,
        SourceLanguageCode="en",
        TargetLanguageCodes=["de"],
        ClientToken="retry-me-0001",
    )
    assert (again["JobId"], again["JobStatus"]) == (first, "COMPLETED")
    with aws.service(TranslateEmulator).backend().lock:
        assert [job.job_id for job in aws.service(TranslateEmulator).backend().jobs.values()].count(first) == 1


def test_the_eleventh_concurrent_job_and_the_sixth_start_in_a_second_are_refused(aws: LocalAws, translate: Any) -> None:
    put(aws, {"quota/a.txt": b"hello"})
    for _ in range(10):
        aws.faults.translate.hang_next_job()
    running = [start(translate, "quota/", "text") for _ in range(10)]
    with pytest.raises(translate.exceptions.LimitExceededException, match="concurrent batch translation jobs"):
        start(translate, "quota/", "text")
    for job_id in running:
        translate.stop_text_translation_job(JobId=job_id)
    assert {wait(translate, job_id)["JobStatus"] for job_id in running} == {"STOPPED"}

    aws.service(TranslateEmulator).max_starts_per_second = 5
    time.sleep(1.0)  # the earlier starts leave the sliding second
    for _ in range(5):
        start(translate, "quota/", "text")
    with pytest.raises(translate.exceptions.TooManyRequestsException):
        start(translate, "quota/", "text")


def test_throttle_and_refusal_faults_hit_start_text_translation_job(aws: LocalAws, translate: Any) -> None:
    aws.faults.throttle("StartTextTranslationJob", message="Slow down")
    with pytest.raises(translate.exceptions.TooManyRequestsException, match="Slow down"):
        start(translate, "quota/", "text")
    aws.faults.fail_call("StartTextTranslationJob", "InvalidRequestException", "no")
    with pytest.raises(translate.exceptions.InvalidRequestException):
        start(translate, "quota/", "text")


def test_state_changes_reach_an_eventbridge_rule(aws: LocalAws, translate: Any) -> None:
    sqs, events = aws.client("sqs"), aws.client("events")
    queue = sqs.create_queue(QueueName="translate-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="translate-jobs", EventPattern=json.dumps({"source": ["aws.translate"]}))
    events.put_targets(Rule="translate-jobs", Targets=[{"Id": "queue", "Arn": arn}])
    put(aws, {"events/a.txt": b"hello"})

    job_id = start(translate, "events/", "text")
    wait(translate, job_id)
    assert aws.wait_idle(10)

    received = [json.loads(m["Body"]) for m in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]]
    assert [e["detail"] for e in received] == [
        {"jobId": job_id, "jobStatus": status} for status in ("SUBMITTED", "IN_PROGRESS", "COMPLETED")
    ]
    assert {e["detail-type"] for e in received} == {EVENT_DETAIL_TYPE}
    assert received[0]["resources"] == [
        f"arn:aws:translate:{aws.region}:{aws.account_id}:text-translation-job/{job_id}"
    ]


def test_describe_and_list_shapes_filters_and_pages(aws: LocalAws, translate: Any) -> None:
    put(aws, {"list/a.txt": b"hello"})
    ids = [start(translate, "list/", "text", ["de", "es"], JobName="listed", Settings={"Profanity": "MASK"})]
    ids.append(start(translate, "list/", "text", JobName="listed"))
    for job_id in ids:
        wait(translate, job_id)
    job = translate.describe_text_translation_job(JobId=ids[0])["TextTranslationJobProperties"]
    assert job["JobName"] == "listed" and job["TargetLanguageCodes"] == ["de", "es"]
    assert job["Settings"] == {"Profanity": "MASK"} and job["DataAccessRoleArn"] == ROLE
    assert job["InputDataConfig"] == {"S3Uri": f"s3://{BUCKET}/list/", "ContentType": "text/plain"}
    assert job["SubmittedTime"] <= job["EndTime"]

    first = translate.list_text_translation_jobs(Filter={"JobName": "listed"}, MaxResults=1)
    second = translate.list_text_translation_jobs(Filter={"JobName": "listed"}, NextToken=first["NextToken"])
    listed = first["TextTranslationJobPropertiesList"] + second["TextTranslationJobPropertiesList"]
    assert [j["JobId"] for j in listed] == ids[::-1] and "NextToken" not in second
    completed = translate.list_text_translation_jobs(Filter={"JobStatus": "COMPLETED", "JobName": "listed"})
    assert len(completed["TextTranslationJobPropertiesList"]) == 2
    after = translate.list_text_translation_jobs(
        Filter={"SubmittedAfterTime": job["SubmittedTime"], "JobName": "listed"}
    )
    before = translate.list_text_translation_jobs(Filter={"SubmittedBeforeTime": job["EndTime"], "JobName": "listed"})
    assert [j["JobId"] for j in after["TextTranslationJobPropertiesList"]] == ids[1:]
    assert ids[0] in [j["JobId"] for j in before["TextTranslationJobPropertiesList"]]
    with pytest.raises(translate.exceptions.ResourceNotFoundException):
        translate.describe_text_translation_job(JobId="f" * 32)


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"TargetLanguageCodes": ["xx"]}, "UnsupportedLanguagePairException"),
        ({"SourceLanguageCode": "klingon"}, "UnsupportedLanguagePairException"),
        ({"TargetLanguageCodes": [f"{c}" for c in ("de", "fr", "es", "it", "ja", "ko", "nl", "pl", "ru", "sv", "tr")]},
         "InvalidParameterValueException"),
        ({"SourceLanguageCode": "en", "TargetLanguageCodes": ["en"]}, "InvalidParameterValueException"),
        ({"InputDataConfig": {"S3Uri": f"s3://{BUCKET}/x/", "ContentType": "application/pdf"}},
         "InvalidRequestException"),
        ({"Settings": {"Formality": "FORMAL"}, "TargetLanguageCodes": ["ru"]}, "InvalidRequestException"),
        ({"TerminologyNames": ["missing"]}, "ResourceNotFoundException"),
    ],
)  # fmt: skip
def test_invalid_starts_are_refused_as_translate_refuses_them(
    aws: LocalAws, translate: Any, change: dict[str, Any], error: str
) -> None:
    request = {
        "InputDataConfig": {"S3Uri": f"s3://{BUCKET}/x/", "ContentType": "text/plain"},
        "OutputDataConfig": {"S3Uri": f"s3://{BUCKET}/output/"},
        "DataAccessRoleArn": ROLE,
        "SourceLanguageCode": "auto",
        "TargetLanguageCodes": ["de"],
        **change,
    }
    with pytest.raises(getattr(translate.exceptions, error)):
        translate.start_text_translation_job(**request)


def test_terminology_terms_are_kept_and_listed_in_the_details(aws: LocalAws, translate: Any) -> None:
    imported = translate.import_terminology(
        Name="brand",
        MergeStrategy="OVERWRITE",
        TerminologyData={"File": b"en,de\nAcme Cloud,Acme Wolke\n", "Format": "CSV"},
    )["TerminologyProperties"]
    assert (imported["Name"], imported["TargetLanguageCodes"], imported["TermCount"]) == ("brand", ["de"], 1)
    assert [t["Name"] for t in translate.list_terminologies()["TerminologyPropertiesList"]] == ["brand"]
    put(aws, {"terms/a.txt": b"Try Acme Cloud now\n"})

    job = wait(translate, start(translate, "terms/", "text", TerminologyNames=["brand"], SourceLanguageCode="auto"))

    assert job["TerminologyNames"] == ["brand"]
    assert output(aws, job["JobId"], "de.a.txt") == "[de|Trý Acme Wolke ñów]\n".encode()
    (detail,) = details(aws, job["JobId"], "de")["details"]
    assert detail["auxiliaryData"]["appliedTerminologies"] == [
        {"name": "brand", "terms": [{"sourceText": "Acme Cloud", "targetText": "Acme Wolke"}]}
    ]
    text = translate.translate_text(
        Text="Acme Cloud rocks", SourceLanguageCode="en", TargetLanguageCode="de", TerminologyNames=["brand"]
    )
    assert text["TranslatedText"] == "[de|Acme Wolke róçkš]"
    assert text["AppliedTerminologies"][0]["Name"] == "brand"
    languages = {entry["LanguageCode"] for entry in translate.list_languages()["Languages"]}
    assert {"de", "zh-TW", "en"} <= languages


def test_translate_faults_are_armed_from_json_listed_and_cleared() -> None:
    faults = Faults()
    faults.apply({"fault": "fail_next_translation_job", "reason": "boom"})
    faults.apply({"fault": "fail_translation_file", "file": "*.xlsx"})
    faults.apply({"fault": "hang_next_translation_job"})
    faults.throttle("CreateEndpoint")
    armed = faults.armed()
    assert [entry.fault for entry in armed][-3:] == [
        "fail_next_translation_job",
        "fail_translation_file",
        "hang_next_translation_job",
    ]
    assert ArmedFault.from_json(armed[-2].to_json()).file == "*.xlsx"
    assert [entry.fault for entry in faults.clear("fail_translation_file")] == ["fail_translation_file"]
    taken = faults.translate.take_job_faults()
    assert (taken.failure, taken.hang, taken.file_glob) == ("boom", True, None)
    assert [entry.fault for entry in faults.armed()] == ["throttle"]


def _docx(text: str) -> bytes:
    document = docx.Document()
    document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
