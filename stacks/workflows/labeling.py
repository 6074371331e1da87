"""Workflow 2, hierarchical labeling: levels of Ground Truth labeling jobs (`POST /batch/create`).

The `Api` function validates and plans a batch; the state machine runs its levels one at a time, the jobs of a
level in parallel (`createLabelingJob.sync`), with `LabelingAdvance` building each level's manifests and requests,
`LabelingFinish` the report and `LabelingFailure` stopping what still runs. Ground Truth runs each job with the
role `LabelingRole` and calls sagestep's own pre-annotation and consolidation Lambdas. The work team is the
deployer's (`labelingWorkteamArn`) or a private workforce and team the stack creates, with a user pool of its own
(labelers are not API users).
"""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from sagestep_service.workflows.labeling import report_schema
from stacks.platform import constants, permissions, user_pools
from stacks.platform.labels import label
from stacks.platform.lambda_functions import ServiceFunction
from stacks.workflows.base import Platform, Workflow

ADVANCE_FUNCTION = "LabelingAdvance"
FINISH_FUNCTION = "LabelingFinish"
FAILURE_FUNCTION = "LabelingFailure"
JOB_STARTED_FUNCTION = "LabelingJobStarted"
PRE_ANNOTATION_FUNCTION = "LabelingPreAnnotation"
CONSOLIDATION_FUNCTION = "LabelingConsolidation"
_HANDLERS = "sagestep_service.workflows.labeling.handlers"
HANDLERS = {
    ADVANCE_FUNCTION: f"{_HANDLERS}.advance",
    FINISH_FUNCTION: f"{_HANDLERS}.finish_batch",
    FAILURE_FUNCTION: f"{_HANDLERS}.on_failure",
    JOB_STARTED_FUNCTION: f"{_HANDLERS}.on_job_started",
    PRE_ANNOTATION_FUNCTION: f"{_HANDLERS}.pre_annotation",
    CONSOLIDATION_FUNCTION: f"{_HANDLERS}.consolidate",
}
SUB_FUNCTION_ARNS = {
    ADVANCE_FUNCTION: "LabelingAdvanceFunctionArn",
    FINISH_FUNCTION: "LabelingFinishFunctionArn",
    FAILURE_FUNCTION: "LabelingFailureFunctionArn",
}
SUB_ROLE_ARN = "LabelingRoleArn"

ENV_STATE_MACHINE_ARN = "LABELING_STATE_MACHINE_ARN"
ENV_WORKTEAM_ARN = "LABELING_WORKTEAM_ARN"
ENV_DEADLINE_SECONDS = "LABELING_DEADLINE_SECONDS"
ENV_DESTINATION_TOPICS = "LABELING_DESTINATION_TOPICS"
ENV_CUSTOM_LAMBDAS = "LABELING_CUSTOM_LAMBDAS"
ENV_PRE_ANNOTATION_ARN = "LABELING_PRE_ANNOTATION_FUNCTION_ARN"
ENV_CONSOLIDATION_ARN = "LABELING_CONSOLIDATION_FUNCTION_ARN"
ENV_DATA_KEY_ARN = "DATA_KEY_ARN"

#: Where batches live in the data bucket: `users/<owner>/labeling/<batchId>/` (inputs/, output/, report/).
BATCH_AREA = "users/*/labeling/*"
#: The Step Functions-managed EventBridge rule of `createLabelingJob.sync`.
SFN_LABELING_RULE = "StepFunctionsGetEventsForSageMakerLabelingJobsRule"
SAGEMAKER_EVENT_SOURCE = "aws.sagemaker"
LABELING_JOB_STATE_CHANGE = "SageMaker Ground Truth Labeling Job State Change"
_LABELING_JOBS_REASON = (
    "Labeling job names are `<batchId>-<jobName>-<hash>`, chosen by users at run time: the actions are limited to "
    "labeling jobs tagged with this stack's name (aws:ResourceTag / aws:RequestTag sagestep:stack)."
)


class Labeling(Workflow):
    """Ground Truth's role, the work team, the task functions and the state machine."""

    NAME = "labeling"
    KINDS = ("labeling",)
    ROUTES = (
        ("POST", "/batch/create"),
        ("GET", "/batch/show"),
        ("POST", "/batch/{batchId}/stop"),
        ("GET", "/batch/{batchId}/report"),
    )

    def __init__(self, scope: Construct, construct_id: str, *, platform: Platform) -> None:
        super().__init__(scope, construct_id, platform=platform)
        storage, job_store, config = platform.storage, platform.job_store, platform.config
        data = storage.data_bucket
        self.workteam_arn = config.labeling_workteam_arn or self._workteam()

        common = {constants.ENV_DATA_BUCKET: data.bucket_name}
        functions: dict[str, ServiceFunction] = {}
        for name, description, timeout, memory in (
            (PRE_ANNOTATION_FUNCTION, "Ground Truth pre-annotation: one data object's task input", 30, 256),
            (CONSOLIDATION_FUNCTION, "Ground Truth consolidation: several workers' answers into one label", 900, 1024),
        ):
            functions[name] = self.task_function(
                name, handler=HANDLERS[name], description=description, environment=common,
                timeout_seconds=timeout, memory_size=memory,
            )  # fmt: skip
        pre, consolidation = functions[PRE_ANNOTATION_FUNCTION], functions[CONSOLIDATION_FUNCTION]
        self.labeling_role = self._labeling_role([pre, consolidation])
        # Consolidation reads the consolidation request Ground Truth wrote under the batch's output, and the job's
        # modality tag and input manifest (an adjustment's earlier labels).
        storage.grant_read(consolidation.role, data, "Ground Truth's consolidation requests and a job's manifest")
        self._allow_own_jobs(consolidation.role, ["sagemaker:DescribeLabelingJob"])

        environment = {
            **common,
            constants.ENV_STACK_NAME: Stack.of(self).stack_name,
            ENV_DATA_KEY_ARN: storage.key.key_arn,
            ENV_PRE_ANNOTATION_ARN: pre.function.function_arn,
            ENV_CONSOLIDATION_ARN: consolidation.function.function_arn,
        }
        for name, description, timeout, memory in (
            (ADVANCE_FUNCTION, "Records a level's labeling jobs and builds the next level's manifests", 900, 1024),
            (FINISH_FUNCTION, "Writes a labeling batch's report (JSON, Parquet) and its worker table", 900, 2048),
            (FAILURE_FUNCTION, "Stops a failed batch's labeling jobs and explains the error", 300, 256),
        ):
            functions[name] = self.task_function(
                name, handler=HANDLERS[name], description=description, environment=environment,
                timeout_seconds=timeout, memory_size=memory,
            )  # fmt: skip
        advance, finish, failure = (functions[n] for n in (ADVANCE_FUNCTION, FINISH_FUNCTION, FAILURE_FUNCTION))
        # Advance reads users' manifests and category files and the chained jobs' outputs, writes built manifests.
        storage.grant_read(advance.role, data, "the manifests, categories and outputs a batch's levels chain")
        storage.grant_put(advance.role, data, f"{BATCH_AREA}/inputs/*", "the manifests a batch's jobs label")
        storage.grant_read(finish.role, data, "the output manifests and worker responses of a batch's jobs")
        storage.grant_put(finish.role, data, f"{BATCH_AREA}/report/*", "a batch's report")
        for function in (advance, finish, failure):
            job_store.grant(function.role, ["GetItem", "UpdateItem"])
        # The report's Parquet tables are written with pyarrow, from the AWS SDK for pandas layer.
        finish.function.add_layers(
            lambda_.LayerVersion.from_layer_version_arn(self, "SdkForPandasLayer", config.sdk_for_pandas_layer_arn)
        )
        self.grant_cleanup(failure.role)

        role = self.build_state_machine(
            {
                **{SUB_FUNCTION_ARNS[name]: functions[name].function.function_arn for name in SUB_FUNCTION_ARNS},
                SUB_ROLE_ARN: self.labeling_role.role_arn,
            },
            invokes=[advance, finish, failure],
        )
        self._allow_labeling_jobs(role)
        permissions.allow(
            role,
            ["iam:PassRole"],
            [self.labeling_role.role_arn],
            conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
        )
        self._stop_late_jobs(environment)
        self.report_database = self._report_tables()
        if config.labeling_destination_topics:
            permissions.allow(
                role,
                ["sns:Publish"],
                list(config.labeling_destination_topics),
                reason="Batches may notify the SNS topics the deployer allows (context labelingDestinationTopics).",
            )

    def _stop_late_jobs(self, environment: dict[str, str]) -> None:
        """A labeling job created after its batch's stop request (its Map iteration was past the flag) is stopped
        when it starts: Ground Truth's state change event → `LabelingJobStarted` (undeliverable events go to the
        platform's dead-letter queue, redrivable)."""
        platform = self.platform
        function = self.task_function(
            JOB_STARTED_FUNCTION,
            handler=HANDLERS[JOB_STARTED_FUNCTION],
            description="Stops a labeling job that started after its batch was stopped",
            environment=environment,
        )
        platform.waits.add_redrive_target(function)
        rule = events.Rule(
            self,
            "LabelingJobStartedRule",
            description="Labeling jobs starting: one of a stopped batch is stopped",
            event_pattern=events.EventPattern(
                source=[SAGEMAKER_EVENT_SOURCE],
                detail_type=[LABELING_JOB_STATE_CHANGE],
                detail={"LabelingJobStatus": ["InProgress"]},
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
        platform.job_store.grant(function.role, ["GetItem"])
        self._allow_own_jobs(function.role, ["sagemaker:DescribeLabelingJob", "sagemaker:StopLabelingJob"])

    def _report_tables(self) -> glue.CfnDatabase:
        """A Glue database with the report tables (schemas from `report_schema`, no crawler), so that Athena and
        QuickSight query every batch's Parquet tables. The owner and the batch are projected partitions (injected:
        a query names them), located where `LabelingFinish` writes them."""
        stack = Stack.of(self)
        name = f"{stack.stack_name}_labeling".replace("-", "_").lower()
        database = glue.CfnDatabase(
            self,
            "ReportDatabase",
            catalog_id=stack.account,
            database_input=glue.CfnDatabase.DatabaseInputProperty(
                name=name, description="sagestep labeling reports: annotations, items, workers of each batch"
            ),
        )
        label(database, "LabelingReportDatabase")
        bucket = self.platform.storage.data_bucket.bucket_name
        for table in report_schema.TABLES:
            location = f"s3://{bucket}/users/${{owner}}/labeling/${{batch}}/report/{table}/"
            resource = glue.CfnTable(
                self,
                f"Report{table.capitalize()}Table",
                catalog_id=stack.account,
                database_name=name,
                table_input=glue.CfnTable.TableInputProperty(
                    name=table,
                    description=f"Labeling reports: {table} (one Parquet file per batch)",
                    table_type="EXTERNAL_TABLE",
                    partition_keys=[
                        glue.CfnTable.ColumnProperty(name="owner", type="string", comment="the batch owner's id"),
                        glue.CfnTable.ColumnProperty(name="batch", type="string", comment="the batchId"),
                    ],
                    parameters={
                        "classification": "parquet",
                        "projection.enabled": "true",
                        "projection.owner.type": "injected",
                        "projection.batch.type": "injected",
                        "storage.location.template": location,
                    },
                    storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                        columns=[
                            glue.CfnTable.ColumnProperty(name=c["Name"], type=c["Type"], comment=c["Comment"] or None)
                            for c in report_schema.glue_columns(table)
                        ],
                        location=f"s3://{bucket}/users/",
                        input_format="org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
                        output_format="org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
                        serde_info=glue.CfnTable.SerdeInfoProperty(
                            serialization_library="org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
                        ),
                    ),
                ),
            )
            resource.add_dependency(database)
            label(resource, f"LabelingReport{table.capitalize()}Table")
        return database

    def _workteam(self) -> str:
        """A private workforce and work team of the stack's own, its workers in a user pool of their own."""
        config = self.platform.config
        pool = user_pools.user_pool(
            self,
            "LabelersUserPool",
            config,
            self_sign_up=False,
            optional_mfa_reason="Labelers sign in to Ground Truth's worker portal with TOTP MFA optional; deployments "
            "that need it set context requireMfa=true (as for the API's users).",
        )
        # Ground Truth's worker portal signs labelers in through the pool's hosted UI (authorization code grant).
        client = pool.add_client(
            "LabelersClient",
            generate_secret=True,
            o_auth=cognito.OAuthSettings(flows=cognito.OAuthFlows(authorization_code_grant=True)),
            prevent_user_existence_errors=True,
        )
        group = cognito.CfnUserPoolGroup(self, "Labelers", user_pool_id=pool.user_pool_id, group_name="labelers")
        stack = Stack.of(self)
        workforce = sagemaker.CfnWorkforce(
            self,
            "Workforce",
            workforce_name=f"{stack.stack_name}-labelers",
            cognito_config=sagemaker.CfnWorkforce.CognitoConfigProperty(
                client_id=client.user_pool_client_id, user_pool=pool.user_pool_id
            ),
        )
        team = sagemaker.CfnWorkteam(
            self,
            "Workteam",
            workteam_name=f"{stack.stack_name}-labelers",
            workforce_name=workforce.workforce_name,
            description="The labelers of sagestep's labeling batches",
            member_definitions=[
                sagemaker.CfnWorkteam.MemberDefinitionProperty(
                    cognito_member_definition=sagemaker.CfnWorkteam.CognitoMemberDefinitionProperty(
                        cognito_client_id=client.user_pool_client_id,
                        cognito_user_group=group.group_name or "labelers",
                        cognito_user_pool=pool.user_pool_id,
                    )
                )
            ],
        )
        team.node.add_dependency(workforce, group)
        label(team, "LabelingWorkteam")
        return team.attr_workteam_arn

    def _labeling_role(self, lambdas: list[ServiceFunction]) -> iam.Role:
        """The role Ground Truth assumes: read users' items and manifests, write batches' output, call the Lambdas."""
        storage = self.platform.storage
        stack = Stack.of(self)
        role = iam.Role(
            self,
            "LabelingRole",
            assumed_by=iam.ServicePrincipal(
                "sagemaker.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": stack.account}}
            ),
            description="SageMaker Ground Truth runs sagestep's labeling jobs",
        )
        label(role, "LabelingRole")
        data = storage.data_bucket
        permissions.allow(role, ["s3:ListBucket", "s3:GetBucketLocation"], [data.bucket_arn])
        permissions.allow(
            role,
            ["s3:GetObject"],
            [data.arn_for_objects("users/*")],
            reason="Ground Truth reads a batch's manifests and the items they name, all under their owner's prefix "
            "(checked when each manifest is built); owners are known at run time.",
        )
        permissions.allow(
            role,
            ["s3:PutObject"],
            [data.arn_for_objects(f"{BATCH_AREA}/output/*")],
            reason="Ground Truth writes a job's output under its batch; batch ids are chosen at run time.",
        )
        storage.grant_encrypt_decrypt(role)
        arns = [f.function.function_arn for f in lambdas] + list(self.platform.config.labeling_custom_lambdas)
        permissions.allow(
            role,
            ["lambda:InvokeFunction"],
            arns,
            reason="Custom labeling jobs may call the Lambdas the deployer allows (context labelingCustomLambdas).",
        )
        return role

    def _allow_labeling_jobs(self, role: iam.Role) -> None:
        stack = Stack.of(self)
        jobs = [stack.format_arn(service="sagemaker", resource="labeling-job", resource_name="*")]
        ours = {"StringEquals": {f"aws:RequestTag/{constants.TAG_STACK}": stack.stack_name}}
        permissions.allow(
            role, ["sagemaker:CreateLabelingJob", "sagemaker:AddTags"], jobs, reason=_LABELING_JOBS_REASON,
            conditions=ours,
        )  # fmt: skip
        self._allow_own_jobs(role, ["sagemaker:DescribeLabelingJob", "sagemaker:StopLabelingJob", "sagemaker:ListTags"])
        # `.sync` manages this rule in the account (an AWS-managed name).
        permissions.allow(
            role,
            ["events:PutTargets", "events:PutRule", "events:DescribeRule"],
            [stack.format_arn(service="events", resource="rule", resource_name=SFN_LABELING_RULE)],
        )

    def _allow_own_jobs(self, role: iam.Role, actions: list[str]) -> None:
        stack = Stack.of(self)
        permissions.allow(
            role,
            actions,
            [stack.format_arn(service="sagemaker", resource="labeling-job", resource_name="*")],
            reason=_LABELING_JOBS_REASON,
            conditions={"StringEquals": {f"aws:ResourceTag/{constants.TAG_STACK}": stack.stack_name}},
        )

    # Registration points ------------------------------------------------------------------------------

    @property
    def api_environment(self) -> dict[str, str]:
        config, storage = self.platform.config, self.platform.storage
        return {
            ENV_STATE_MACHINE_ARN: self.state_machine.state_machine_arn,
            constants.ENV_ARTIFACT_BUCKET: storage.artifact_bucket.bucket_name,
            constants.ENV_DATA_BUCKET: storage.data_bucket.bucket_name,
            ENV_WORKTEAM_ARN: self.workteam_arn,
            ENV_DEADLINE_SECONDS: str(config.labeling_deadline_seconds),
            ENV_DESTINATION_TOPICS: ",".join(config.labeling_destination_topics),
            ENV_CUSTOM_LAMBDAS: ",".join(config.labeling_custom_lambdas),
        }

    @property
    def outputs(self) -> dict[str, tuple[str, str]]:
        return {
            "LabelingWorkteamArn": (self.workteam_arn, "The work team of labeling jobs that name none"),
            "LabelingReportDatabase": (
                self.report_database.ref,
                "Glue database of the labeling reports (tables annotations, items, workers; partitions owner, batch)",
            ),
        }

    def grant_api(self, role: iam.Role) -> None:
        storage = self.platform.storage
        # Submission reads manifests and category files; show presigns the manifests and the report.
        storage.grant_read(role, storage.data_bucket, "a batch's manifests, categories, report and presigned links")
        permissions.allow(role, ["states:StartExecution"], [self.state_machine.state_machine_arn])
        # Show describes running jobs live; stop stops them at once.
        self._allow_own_jobs(role, ["sagemaker:DescribeLabelingJob", "sagemaker:StopLabelingJob"])

    def grant_cleanup(self, role: iam.Role) -> None:
        """Failure cleanup (LabelingFailure, the safety net): stop the batch's running labeling jobs."""
        self._allow_own_jobs(role, ["sagemaker:DescribeLabelingJob", "sagemaker:StopLabelingJob"])
