"""Workflow 3, translation: a folder of mixed documents through Amazon Translate batch jobs, one per content type.

The `Api` function plans each job; the state machine stages the folder (task function), starts one Translate job
per content type (`aws-sdk:translate`, with the data access role Translate assumes), waits for Translate's state
change event (platform waits), copies the results back and records them. The reference's SQS entry is a queue with a
dead-letter queue and a function that submits each message like the API does.
"""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.platform import constants, nag, permissions
from stacks.platform.labels import label
from stacks.platform.lambda_functions import ServiceFunction
from stacks.workflows.base import Platform, Workflow

STAGE_FUNCTION = "TranslationStage"
RESTORE_FUNCTION = "TranslationRestore"
FINISH_FUNCTION = "TranslationFinish"
FAILURE_FUNCTION = "TranslationFailure"
QUEUE_FUNCTION = "TranslationQueueEntry"
_HANDLERS = "sagestep_service.workflows.translation.handlers"
HANDLERS = {
    STAGE_FUNCTION: f"{_HANDLERS}.stage",
    RESTORE_FUNCTION: f"{_HANDLERS}.restore_results",
    FINISH_FUNCTION: f"{_HANDLERS}.finish",
    FAILURE_FUNCTION: f"{_HANDLERS}.on_failure",
    QUEUE_FUNCTION: f"{_HANDLERS}.from_queue",
}

ENV_STATE_MACHINE_ARN = "TRANSLATION_STATE_MACHINE_ARN"
ENV_TRANSLATE_ROLE_ARN = "TRANSLATE_ROLE_ARN"
ENV_DATA_KEY_ARN = "DATA_KEY_ARN"
ENV_DEADLINE_SECONDS = "TRANSLATION_DEADLINE_SECONDS"
ENV_QUEUE_PREFIXES = "TRANSLATION_QUEUE_PREFIXES"

SUB_FUNCTION_ARNS = {
    STAGE_FUNCTION: "TranslationStageFunctionArn",
    RESTORE_FUNCTION: "TranslationRestoreFunctionArn",
    FINISH_FUNCTION: "TranslationFinishFunctionArn",
    FAILURE_FUNCTION: "TranslationFailureFunctionArn",
}

TRANSLATE_EVENT_SOURCE = "aws.translate"
TRANSLATE_JOB_STATE_CHANGE = "Translate TextTranslationJob State Change"
JOB_AREA = "jobs/translation-*"
#: A message that failed this many receives goes to the dead-letter queue.
QUEUE_MAX_RECEIVES = 3
_TRANSLATE_NO_RESOURCES = (
    "Amazon Translate's batch job actions (Start/Describe/List/StopTextTranslationJob) have no resource-level "
    "permissions; the code touches only jobs named after its own job ids."
)


class Translation(Workflow):
    """The Translate data access role, the task functions, the state machine and the queue entry."""

    NAME = "translation"
    KINDS = ("translation",)
    ROUTES = (
        ("POST", "/translation"),
        ("GET", "/translation"),
        ("GET", "/translation/{jobId}"),
        ("GET", "/translation/{jobId}/files"),
        ("DELETE", "/translation/{jobId}"),
    )

    def __init__(self, scope: Construct, construct_id: str, *, platform: Platform) -> None:
        super().__init__(scope, construct_id, platform=platform)
        storage, job_store = platform.storage, platform.job_store
        artifacts, data = storage.artifact_bucket, storage.data_bucket
        environment = {constants.ENV_ARTIFACT_BUCKET: artifacts.bucket_name}

        self.translate_role = self._translate_role()
        functions: dict[str, ServiceFunction] = {}
        for name, description, timeout in (
            (STAGE_FUNCTION, "Copies one page of a folder's files into per-content-type staging prefixes", 900),
            (RESTORE_FUNCTION, "Copies one page of a Translate job's results back to <output>/<language>/<path>", 900),
            (FINISH_FUNCTION, "Records a translation job's summary and removes its staging area", 300),
            (
                FAILURE_FUNCTION,
                "Stops a failed job's Translate jobs, removes its staging area, explains the error",
                300,
            ),
        ):
            functions[name] = self.task_function(
                name, handler=HANDLERS[name], description=description, environment=environment,
                timeout_seconds=timeout, memory_size=512,
            )  # fmt: skip
        stage, restore = functions[STAGE_FUNCTION], functions[RESTORE_FUNCTION]
        finish, failure = functions[FINISH_FUNCTION], functions[FAILURE_FUNCTION]
        # Staging reads users' folders (the XLIFF version check reads a file's first bytes) and writes the job area.
        storage.grant_read(stage.role, data, "the input folder of a translation job")
        storage.grant_put(stage.role, artifacts, f"{JOB_AREA}/*", "staged files and manifests of translation jobs")
        storage.grant_read(restore.role, artifacts, "Translate's output, details files and manifests")
        storage.grant_put(restore.role, artifacts, f"{JOB_AREA}/results/*", "per-file results of translation jobs")
        storage.grant_put(restore.role, data, "users/*", "translations written to the owner's output folder")
        for prefix in platform.config.translation_queue_prefixes:
            storage.grant_put(restore.role, data, f"{prefix}*", "translations of jobs started from the queue")
        for role in (finish.role, failure.role):
            self._allow_job_area_cleanup(role)
        # Staging and restore read the record at each call (a stop request); the failure path reads who stopped it.
        for function in (stage, restore, failure):
            job_store.grant(function.role, ["GetItem"])
        storage.grant_read(finish.role, artifacts, "the manifests' skipped files")
        job_store.grant(finish.role, ["GetItem", "UpdateItem"])
        self.grant_cleanup(failure.role)

        role = self.build_state_machine(
            {SUB_FUNCTION_ARNS[name]: function.function.function_arn for name, function in functions.items()},
            invokes=list(functions.values()),
        )
        permissions.allow(role, ["translate:StartTextTranslationJob"], ["*"], reason=_TRANSLATE_NO_RESOURCES)
        permissions.allow(
            role,
            ["iam:PassRole"],
            [self.translate_role.role_arn],
            conditions={"StringEquals": {"iam:PassedToService": "translate.amazonaws.com"}},
        )
        self._wait_for_translate_jobs()
        self.queue, self.queue_entry = self._queue_entry()

    def _translate_role(self) -> iam.Role:
        """The role Translate assumes to read a job's staged files and write its output (the job area only)."""
        storage = self.platform.storage
        stack = Stack.of(self)
        role = iam.Role(
            self,
            "TranslateDataAccessRole",
            assumed_by=iam.ServicePrincipal(
                "translate.amazonaws.com",
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {"aws:SourceArn": f"arn:{stack.partition}:translate:{stack.region}:{stack.account}:*"},
                },
            ),
            description="Amazon Translate reads staged documents and writes translations of sagestep jobs",
        )
        label(role, "TranslateDataAccessRole")
        artifacts = storage.artifact_bucket
        permissions.allow(role, ["s3:ListBucket"], [artifacts.bucket_arn])
        permissions.allow(
            role,
            ["s3:GetObject"],
            [artifacts.arn_for_objects(f"{JOB_AREA}/staging/*")],
            reason="Translate reads the staged files of a job; job ids are chosen at run time.",
        )
        permissions.allow(
            role,
            ["s3:PutObject"],
            [artifacts.arn_for_objects(f"{JOB_AREA}/translated/*")],
            reason="Translate writes a job's output under its job area; job ids are chosen at run time.",
        )
        storage.grant_encrypt_decrypt(role)
        return role

    def _allow_job_area_cleanup(self, role: iam.Role) -> None:
        artifacts = self.platform.storage.artifact_bucket
        permissions.allow(role, ["s3:ListBucket"], [artifacts.bucket_arn])
        permissions.allow(
            role,
            ["s3:DeleteObject"],
            [artifacts.arn_for_objects(f"{JOB_AREA}/staging/*"), artifacts.arn_for_objects(f"{JOB_AREA}/translated/*")],
            reason="A translation job's staging area is removed when it ends; job ids are chosen at run time.",
        )

    def _wait_for_translate_jobs(self) -> None:
        waits = self.platform.waits
        waits.add_resume_rule(
            "TranslateJobStateChange",
            description="Translate batch jobs ending resume the waiting translation executions",
            source=[TRANSLATE_EVENT_SOURCE],
            detail_type=[TRANSLATE_JOB_STATE_CHANGE],
            detail={"jobStatus": ["COMPLETED", "COMPLETED_WITH_ERROR", "FAILED", "STOPPED"]},
        )
        # WaitRegister checks the job once after storing the token; WaitResume reads a FAILED job's reason.
        for wait_function in (waits.register, waits.resume):
            permissions.allow(
                wait_function.role, ["translate:DescribeTextTranslationJob"], ["*"], reason=_TRANSLATE_NO_RESOURCES
            )

    def _queue_entry(self) -> tuple[sqs.Queue, ServiceFunction]:
        """The reference's entry: an SQS message per folder, a dead-letter queue after three failed receives."""
        dead_letters = sqs.Queue(
            self,
            "QueueDeadLetters",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        label(dead_letters, "TranslationQueueDeadLetterQueue")
        nag.acknowledge(dead_letters, "SQS3", "This queue is the dead-letter queue of the translation queue.")
        queue = sqs.Queue(
            self,
            "Queue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            # At least six times the function's timeout, as Lambda's SQS integration asks.
            visibility_timeout=Duration.seconds(6 * 60),
            dead_letter_queue=sqs.DeadLetterQueue(queue=dead_letters, max_receive_count=QUEUE_MAX_RECEIVES),
        )
        label(queue, "TranslationQueue")
        entry = self.task_function(
            QUEUE_FUNCTION,
            handler=HANDLERS[QUEUE_FUNCTION],
            description="Starts a translation job for each message of the translation queue (idempotent per message)",
            environment=self.api_environment,
        )
        entry.function.add_event_source(
            event_sources.SqsEventSource(queue, batch_size=10, report_batch_item_failures=True)
        )
        self._grant_submission(entry.role)
        self.dead_letter_queue = dead_letters
        return queue, entry

    def _grant_submission(self, role: iam.Role) -> None:
        storage = self.platform.storage
        self.platform.job_store.grant(role, ["GetItem", "PutItem", "DeleteItem"])
        storage.grant_list(role, storage.data_bucket)
        permissions.allow(role, ["states:StartExecution"], [self.state_machine.state_machine_arn])

    # Registration points ------------------------------------------------------------------------------

    @property
    def api_environment(self) -> dict[str, str]:
        config, storage = self.platform.config, self.platform.storage
        return {
            ENV_STATE_MACHINE_ARN: self.state_machine.state_machine_arn,
            constants.ENV_ARTIFACT_BUCKET: storage.artifact_bucket.bucket_name,
            constants.ENV_DATA_BUCKET: storage.data_bucket.bucket_name,
            ENV_TRANSLATE_ROLE_ARN: self.translate_role.role_arn,
            ENV_DATA_KEY_ARN: storage.key.key_arn,
            ENV_DEADLINE_SECONDS: str(config.translation_deadline_seconds),
            ENV_QUEUE_PREFIXES: ",".join(config.translation_queue_prefixes),
        }

    @property
    def dead_letter_queues(self) -> list[sqs.IQueue]:
        return [self.dead_letter_queue]

    @property
    def outputs(self) -> dict[str, tuple[str, str]]:
        return {
            "TranslationQueueUrl": (self.queue.queue_url, "Send the reference's message here to start a translation"),
            "TranslationQueueName": (self.queue.queue_name, "The translation queue's name"),
            "TranslationDeadLetterQueueUrl": (
                self.dead_letter_queue.queue_url,
                "Messages of the translation queue that failed three times",
            ),
        }

    def grant_api(self, role: iam.Role) -> None:
        storage = self.platform.storage
        # Submission lists the input folder; the files listing reads results and presigns GETs of the outputs.
        storage.grant_read(role, storage.data_bucket, "the input folder's listing and presigned result links")
        storage.grant_read(role, storage.artifact_bucket, "per-file results of translation jobs")
        permissions.allow(role, ["states:StartExecution"], [self.state_machine.state_machine_arn])
        # DELETE /translation/{jobId} stops the job's Translate jobs at once.
        permissions.allow(
            role,
            ["translate:ListTextTranslationJobs", "translate:StopTextTranslationJob"],
            ["*"],
            reason=_TRANSLATE_NO_RESOURCES,
        )

    def grant_cleanup(self, role: iam.Role) -> None:
        """Failure cleanup (TranslationFailure, the safety net): stop the job's Translate jobs, remove its staging."""
        permissions.allow(
            role,
            ["translate:ListTextTranslationJobs", "translate:StopTextTranslationJob"],
            ["*"],
            reason=_TRANSLATE_NO_RESOURCES,
        )
        self._allow_job_area_cleanup(role)
