"""Workflow 4, documents: PDFs and images through Amazon Textract, segmented into paragraphs, each through Amazon
Comprehend, a row per paragraph.

The `Api` function (or an upload under `users/<you>/documents/`) plans each job; the state machine lists the
documents into a manifest, fans out on a Distributed Map (one child execution per document: StartDocumentAnalysis
through `aws-sdk:textract`, a wait resumed by Textract's SNS notification through the platform's waits, the result
pages into S3, segmentation and Comprehend in a task function), then summarises the job.
"""

from __future__ import annotations

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from stacks.platform import constants, permissions
from stacks.platform.labels import label
from stacks.platform.lambda_functions import ServiceFunction
from stacks.workflows.base import Platform, Workflow

LIST_FUNCTION = "DocumentsList"
FETCH_FUNCTION = "DocumentsFetch"
ANALYSE_FUNCTION = "DocumentsAnalyse"
DOCUMENT_FAILED_FUNCTION = "DocumentsDocumentFailed"
FINISH_FUNCTION = "DocumentsFinish"
FAILURE_FUNCTION = "DocumentsFailure"
UPLOAD_FUNCTION = "DocumentsUpload"
_HANDLERS = "sagestep_service.workflows.documents.handlers"
HANDLERS = {
    LIST_FUNCTION: f"{_HANDLERS}.list_documents",
    FETCH_FUNCTION: f"{_HANDLERS}.fetch_results",
    ANALYSE_FUNCTION: f"{_HANDLERS}.analyse",
    DOCUMENT_FAILED_FUNCTION: f"{_HANDLERS}.document_failed",
    FINISH_FUNCTION: f"{_HANDLERS}.finish",
    FAILURE_FUNCTION: f"{_HANDLERS}.on_failure",
    UPLOAD_FUNCTION: f"{_HANDLERS}.from_upload",
}
TASK_FUNCTIONS = (
    LIST_FUNCTION, FETCH_FUNCTION, ANALYSE_FUNCTION, DOCUMENT_FAILED_FUNCTION, FINISH_FUNCTION, FAILURE_FUNCTION,
)  # fmt: skip

ENV_STATE_MACHINE_ARN = "DOCUMENTS_STATE_MACHINE_ARN"
ENV_PARAGRAPHS_TABLE = "PARAGRAPHS_TABLE_NAME"
ENV_TOPIC_ARN = "TEXTRACT_TOPIC_ARN"
ENV_TEXTRACT_ROLE_ARN = "TEXTRACT_ROLE_ARN"
ENV_DEADLINE_SECONDS = "DOCUMENTS_DEADLINE_SECONDS"
JOB_AREA = "jobs/documents-*"
_NO_RESOURCES = (
    "Amazon Textract's asynchronous analysis (StartDocumentAnalysis, GetDocumentAnalysis) and Comprehend's "
    "detection APIs have no resource-level permissions."
)


class Documents(Workflow):
    """The paragraphs table, Textract's notification topic and role, the task functions, the state machine and the
    upload trigger."""

    NAME = "documents"
    KINDS = ("documents",)
    ROUTES = (
        ("POST", "/documents"),
        ("GET", "/documents"),
        ("GET", "/documents/{jobId}"),
        ("GET", "/documents/{jobId}/paragraphs"),
        ("GET", "/documents/{jobId}/documents"),
    )

    def __init__(self, scope: Construct, construct_id: str, *, platform: Platform) -> None:
        super().__init__(scope, construct_id, platform=platform)
        config, storage, job_store = platform.config, platform.storage, platform.job_store
        artifacts, data = storage.artifact_bucket, storage.data_bucket

        self.paragraphs = dynamodb.Table(
            self,
            "ParagraphsTable",
            partition_key=dynamodb.Attribute(name="jobId", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="position", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=storage.key,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            removal_policy=config.removal_policy,
        )
        label(self.paragraphs, "ParagraphsTable")
        self.topic = sns.Topic(
            self, "TextractTopic", display_name="Textract job completions", master_key=storage.key, enforce_ssl=True
        )
        label(self.topic, "TextractTopic")
        # Textract's completion messages resume the waiting child execution (platform waits); WaitResume sends
        # what it cannot handle to the dead-letter queue (an asynchronous invocation by SNS).
        self.topic.add_subscription(subscriptions.LambdaSubscription(platform.waits.resume.function))
        self.textract_role = self._textract_role()

        environment = {
            constants.ENV_ARTIFACT_BUCKET: artifacts.bucket_name,
            ENV_PARAGRAPHS_TABLE: self.paragraphs.table_name,
        }
        functions: dict[str, ServiceFunction] = {}
        for name, description, timeout, memory in (
            (LIST_FUNCTION, "Writes a documents job's manifest (the Distributed Map's items) to S3", 300, 256),
            (FETCH_FUNCTION, "Pages every GetDocumentAnalysis result of a document into S3", 300, 512),
            (ANALYSE_FUNCTION, "Segments a document into paragraphs, runs Comprehend in batches, writes the rows", 900,
             1024),
            (DOCUMENT_FAILED_FUNCTION, "Records why one document of a job failed", 60, 256),
            (FINISH_FUNCTION, "Summarises a documents job over its documents", 300, 512),
            (FAILURE_FUNCTION, "Explains a failed documents job", 60, 256),
        ):  # fmt: skip
            functions[name] = self.task_function(
                name, handler=HANDLERS[name], description=description, environment=environment,
                timeout_seconds=timeout, memory_size=memory,
            )  # fmt: skip
        lister, fetch, analyse = functions[LIST_FUNCTION], functions[FETCH_FUNCTION], functions[ANALYSE_FUNCTION]
        failed, finish = functions[DOCUMENT_FAILED_FUNCTION], functions[FINISH_FUNCTION]
        storage.grant_read(lister.role, data, "the documents of a folder")
        storage.grant_put(lister.role, artifacts, f"{JOB_AREA}/*", "documents manifests")
        permissions.allow(fetch.role, ["textract:GetDocumentAnalysis"], ["*"], reason=_NO_RESOURCES)
        storage.grant_put(fetch.role, artifacts, f"{JOB_AREA}/*", "Textract's result pages")
        storage.grant_read(analyse.role, artifacts, "Textract's result pages")
        storage.grant_put(analyse.role, artifacts, f"{JOB_AREA}/*", "a document's summary")
        storage.grant_put(analyse.role, data, "users/*", "the JSON export in the owner's insights/ folder")
        permissions.allow(
            analyse.role,
            [
                "comprehend:BatchDetectSentiment",
                "comprehend:BatchDetectKeyPhrases",
                "comprehend:BatchDetectEntities",
                "comprehend:BatchDetectDominantLanguage",
                "comprehend:DetectDominantLanguage",
            ],
            ["*"],
            reason=_NO_RESOURCES,
        )
        permissions.allow(analyse.role, ["dynamodb:BatchWriteItem", "dynamodb:PutItem"], [self.paragraphs.table_arn])
        storage.grant_encrypt_decrypt(analyse.role)
        storage.grant_put(failed.role, artifacts, f"{JOB_AREA}/*", "a failed document's summary")
        storage.grant_read(finish.role, artifacts, "the documents' summaries")
        job_store.grant(finish.role, ["UpdateItem"])

        role = self.build_state_machine(
            {f"{name}FunctionArn": function.function.function_arn for name, function in functions.items()},
            invokes=list(functions.values()),
        )
        self._grant_state_machine(role)
        self._wait_for_textract()
        self.upload = self._upload_trigger()

    def _textract_role(self) -> iam.Role:
        """The role Textract assumes to publish a job's completion to the topic."""
        stack = Stack.of(self)
        role = iam.Role(
            self,
            "TextractNotificationRole",
            assumed_by=iam.ServicePrincipal(
                "textract.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": stack.account}}
            ),
            description="Amazon Textract publishes the end of sagestep's document analyses",
        )
        label(role, "TextractNotificationRole")
        permissions.allow(role, ["sns:Publish"], [self.topic.topic_arn])
        permissions.allow(role, ["kms:GenerateDataKey", "kms:Decrypt"], [self.platform.storage.key.key_arn])
        return role

    def _grant_state_machine(self, role: iam.Role) -> None:
        storage = self.platform.storage
        stack = Stack.of(self)
        permissions.allow(role, ["textract:StartDocumentAnalysis"], ["*"], reason=_NO_RESOURCES)
        # Textract reads the document with the caller's permissions.
        storage.grant_read(role, storage.data_bucket, "the documents Textract analyses")
        permissions.allow(
            role,
            ["iam:PassRole"],
            [self.textract_role.role_arn],
            conditions={"StringEquals": {"iam:PassedToService": "textract.amazonaws.com"}},
        )
        # The Distributed Map reads its items from the manifest and runs its child executions.
        storage.grant_read(role, storage.artifact_bucket, "the documents manifest of the Distributed Map")
        own = stack.format_arn(
            service="states",
            resource="stateMachine",
            resource_name=self.state_machine_name,
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        permissions.allow(role, ["states:StartExecution"], [own])
        children = stack.format_arn(
            service="states",
            resource="execution",
            resource_name=f"{self.state_machine_name}/*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        permissions.allow(
            role,
            ["states:DescribeExecution", "states:StopExecution"],
            [children],
            reason="A Distributed Map's child executions are named by Step Functions at run time; limited to this "
            "state machine's.",
        )

    def _wait_for_textract(self) -> None:
        waits = self.platform.waits
        for wait_function in (waits.register, waits.resume):
            permissions.allow(wait_function.role, ["textract:GetDocumentAnalysis"], ["*"], reason=_NO_RESOURCES)

    def _upload_trigger(self) -> ServiceFunction:
        """An upload under `users/<you>/documents/` starts its job (S3 → EventBridge → this function)."""
        platform = self.platform
        storage = platform.storage
        function = self.task_function(
            UPLOAD_FUNCTION,
            handler=HANDLERS[UPLOAD_FUNCTION],
            description="Starts a documents job for each document uploaded under users/<you>/documents/",
            environment=self.api_environment,
        )
        platform.waits.add_redrive_target(function)
        cfn_bucket = storage.data_bucket.node.default_child
        assert isinstance(cfn_bucket, s3.CfnBucket)
        cfn_bucket.add_property_override("NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled", True)
        rule = events.Rule(
            self,
            "UploadRule",
            description="Documents uploaded under users/<you>/documents/ start a documents job",
            event_pattern=events.EventPattern(
                source=["aws.s3"],
                detail_type=["Object Created"],
                detail={
                    "bucket": {"name": [storage.data_bucket.bucket_name]},
                    "object": {"key": [{"wildcard": "users/*/documents/*"}]},
                },
            ),
        )
        rule.add_target(
            targets.LambdaFunction(
                function.function,
                dead_letter_queue=platform.waits.dead_letter_queue,
                retry_attempts=8,
                max_event_age=Duration.hours(2),
            )
        )
        platform.job_store.grant(function.role, ["GetItem", "PutItem", "DeleteItem"])
        storage.grant_read(function.role, storage.data_bucket, "the uploaded document's size and format")
        permissions.allow(function.role, ["states:StartExecution"], [self.state_machine.state_machine_arn])
        return function

    # Registration points ------------------------------------------------------------------------------

    @property
    def api_environment(self) -> dict[str, str]:
        config, storage = self.platform.config, self.platform.storage
        return {
            ENV_STATE_MACHINE_ARN: self.state_machine.state_machine_arn,
            constants.ENV_ARTIFACT_BUCKET: storage.artifact_bucket.bucket_name,
            constants.ENV_DATA_BUCKET: storage.data_bucket.bucket_name,
            ENV_PARAGRAPHS_TABLE: self.paragraphs.table_name,
            ENV_TOPIC_ARN: self.topic.topic_arn,
            ENV_TEXTRACT_ROLE_ARN: self.textract_role.role_arn,
            ENV_DEADLINE_SECONDS: str(config.documents_deadline_seconds),
        }

    def grant_api(self, role: iam.Role) -> None:
        storage = self.platform.storage
        storage.grant_read(role, storage.data_bucket, "the document's size and format, a folder's listing")
        storage.grant_read(role, storage.artifact_bucket, "the per-document records of a documents job")
        permissions.allow(role, ["states:StartExecution"], [self.state_machine.state_machine_arn])
        permissions.allow(role, ["dynamodb:Query"], [self.paragraphs.table_arn])
        storage.grant_decrypt(role)
