"""The REST API: Cognito user pool, API Gateway (every method behind the Cognito authorizer), `Api` function."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from stacks.platform import constants, nag, user_pools
from stacks.platform.config import SagestepConfig
from stacks.platform.job_store import JobStore
from stacks.platform.labels import label
from stacks.platform.lambda_functions import LambdaFactory, ServiceFunction
from stacks.platform.storage import Storage
from stacks.workflows.base import Workflow


class Api(Construct):
    """User pool + client, REST API with access logs, X-Ray, throttling and request validation."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: SagestepConfig,
        functions: LambdaFactory,
        storage: Storage,
        job_store: JobStore,
        workflows: Sequence[Workflow],
    ) -> None:
        super().__init__(scope, construct_id)
        self.user_pool, self.user_pool_client = self._user_pool(config)
        self.handler = self._handler(functions, storage, job_store, workflows)
        routes = [*constants.PLATFORM_ROUTES, *(route for w in workflows for route in w.ROUTES)]
        self.rest_api = self._rest_api(config, storage, routes)

    def _user_pool(self, config: SagestepConfig) -> tuple[cognito.UserPool, cognito.UserPoolClient]:
        user_pool = user_pools.user_pool(
            self,
            "UserPool",
            config,
            self_sign_up=config.self_sign_up,
            optional_mfa_reason="MFA is optional (TOTP) by default because scripts and CI call the API with "
            "USER_PASSWORD_AUTH; deployments that need it set context requireMfa=true.",
        )
        client = user_pool.add_client(
            "UserPoolClient",
            auth_flows=cognito.AuthFlow(user_password=True, user_srp=True),
            generate_secret=False,
            # Tokens come from InitiateAuth (USER_PASSWORD_AUTH, SRP), never from the hosted UI: without this the
            # CDK enables the implicit and code grants with a placeholder callback URL.
            disable_o_auth=True,
            prevent_user_existence_errors=True,
            access_token_validity=Duration.hours(1),
            id_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.days(30),
        )
        label(client, "UserPoolClient")
        return user_pool, client

    def _handler(
        self, functions: LambdaFactory, storage: Storage, job_store: JobStore, workflows: Sequence[Workflow]
    ) -> ServiceFunction:
        """One function serves every workflow's routes; each workflow adds its environment and grants."""
        handler = functions.create(
            self,
            constants.API_FUNCTION,
            description="sagestep REST API (validates requests, builds job plans, starts workflows, infers)",
            # API Gateway waits at most 29 s for the integration.
            timeout_seconds=29,
            memory_size=512,
            environment={
                constants.ENV_JOBS_TABLE_NAME: job_store.table.table_name,
                constants.ENV_STACK_NAME: Stack.of(self).stack_name,
                constants.ENV_DATA_BUCKET: storage.data_bucket.bucket_name,
            },
        )
        # POST /uploads presigns PUTs into the caller's own prefix (users/<sub>/...).
        storage.grant_put(
            handler.role, storage.data_bucket, f"{constants.USERS_DATA_PREFIX}*", "presigned uploads of users' data"
        )
        # Jobs are claimed (conditional put), read, listed (the owner/kind index), updated (reservations) and
        # removed when their execution could not start: exactly the calls the API makes.
        job_store.grant(
            handler.role,
            ["GetItem", "PutItem", "UpdateItem", "DeleteItem"],
            query_indexes=[constants.GSI_BY_OWNER_KIND],
        )
        for workflow in workflows:
            for name, value in workflow.api_environment.items():
                handler.function.add_environment(name, value)
            workflow.grant_api(handler.role)
        return handler

    def _rest_api(self, config: SagestepConfig, storage: Storage, routes: Sequence[tuple[str, str]]) -> apigw.RestApi:
        access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=config.log_retention,
            encryption_key=storage.key,
            removal_policy=config.removal_policy,
        )
        cors = (
            apigw.CorsOptions(
                allow_origins=config.cors_allow_origins,
                allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
                allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
            )
            if config.cors_allow_origins
            else None
        )
        rest_api = apigw.RestApi(
            self,
            "RestApi",
            # API Gateway's metrics are keyed by API name: a stack-unique one keeps each stack's alarms its own.
            rest_api_name=f"{Stack.of(self).stack_name}-api",
            description="sagestep REST API",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            cloud_watch_role=config.api_cloudwatch_role,
            deploy_options=apigw.StageOptions(
                stage_name=constants.API_STAGE_NAME,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=True,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=True,
                ),
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
                metrics_enabled=True,
                tracing_enabled=True,
                throttling_rate_limit=config.api_throttle_rate_limit,
                throttling_burst_limit=config.api_throttle_burst_limit,
            ),
            default_cors_preflight_options=cors,
        )
        label(rest_api, "RestApi")
        if len(config.cors_allow_origins) == 1:
            # Errors answered by API Gateway itself (401 from the authorizer, 429, 5xx) need the header too.
            origin = config.cors_allow_origins[0]
            for response_id, response_type in (
                ("Default4xx", apigw.ResponseType.DEFAULT_4_XX),
                ("Default5xx", apigw.ResponseType.DEFAULT_5_XX),
            ):
                rest_api.add_gateway_response(
                    response_id, type=response_type, response_headers={"Access-Control-Allow-Origin": f"'{origin}'"}
                )
        # The stack's `ApiUrl` output replaces the RestApi's own `Endpoint` output (same value).
        rest_api.node.try_remove_child("Endpoint")
        if config.api_cloudwatch_role:
            nag.acknowledge(
                rest_api,
                "IAM4",
                "API Gateway's account-level CloudWatch role (needed for execution logs) uses the AWS managed "
                "policy made for it.",
                "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs",
            )
        if config.api_web_acl_arn:
            wafv2.CfnWebACLAssociation(
                self,
                "WebAclAssociation",
                resource_arn=rest_api.deployment_stage.stage_arn,
                web_acl_arn=config.api_web_acl_arn,
            )
        else:
            nag.acknowledge(
                rest_api,
                "APIG3",
                "A WAFv2 web ACL is an account-level choice: deployments associate theirs with context "
                "apiWebAclArn; without it every method still requires a Cognito token and the stage is throttled.",
            )

        authorizer = apigw.CognitoUserPoolsAuthorizer(
            self,
            "Authorizer",
            cognito_user_pools=[self.user_pool],
            identity_source="method.request.header.Authorization",
        )
        validator = rest_api.add_request_validator(
            "RequestValidator", validate_request_body=True, validate_request_parameters=True
        )
        integration = apigw.LambdaIntegration(self.handler.function, proxy=True, allow_test_invoke=False)
        for method, path in routes:
            resource = rest_api.root.resource_for_path(path)
            parameters = {"method.request.header.Authorization": True}
            if "{jobId}" in path:
                parameters["method.request.path.jobId"] = True
            resource.add_method(
                method,
                integration,
                authorization_type=apigw.AuthorizationType.COGNITO,
                authorizer=authorizer,
                request_validator=validator,
                request_parameters=parameters,
            )
        return rest_api
