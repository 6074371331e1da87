"""One way to build every sagestep Lambda function: same asset, runtime, layer, tracing and logging."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import ArnFormat, CfnDynamicReference, CfnDynamicReferenceService, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.platform import constants, nag
from stacks.platform.config import SagestepConfig
from stacks.platform.labels import label


class ServiceFunction(Construct):
    """A function with its own role (no AWS managed policy) and its own encrypted log group.

    Children: `Role`, `LogGroup`, `Function`. The function's template resource carries the metadata
    `sagestep:name: <logical name>` (e.g. `TrainingHpoResults`), and its `Handler` is the one in
    docs/architecture.md.
    """

    def __init__(
        self,
        scope: Construct,
        name: str,
        *,
        factory: LambdaFactory,
        handler: str,
        environment: Mapping[str, str],
        description: str,
        timeout: Duration,
        memory_size: int,
    ) -> None:
        super().__init__(scope, name)
        self.name = name
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"sagestep {name} function",
        )
        self.log_group = logs.LogGroup(
            self,
            "LogGroup",
            retention=factory.config.log_retention,
            encryption_key=factory.key,
            removal_policy=factory.config.removal_policy,
        )
        self.log_group.grant_write(self.role)
        self.function = lambda_.Function(
            self,
            "Function",
            description=description,
            runtime=LambdaFactory.RUNTIME,
            architecture=LambdaFactory.ARCHITECTURE,
            code=factory.code,
            handler=handler,
            layers=[factory.powertools_layer],
            role=self.role,
            log_group=self.log_group,
            tracing=lambda_.Tracing.ACTIVE,
            timeout=timeout,
            memory_size=memory_size,
            environment={**factory.common_environment, **environment},
        )
        label(self.function, name)

        nag.acknowledge(
            self.function,
            "L1",
            "Python 3.11 is pinned on purpose: the service code, the local runtime and the training container "
            "share one interpreter version (pyproject requires-python <3.12) and the Powertools layer matches it.",
        )
        nag.acknowledge(
            self.role,
            "IAM5",
            "X-Ray PutTraceSegments/PutTelemetryRecords (added by active tracing) have no resource-level permissions.",
            "Resource::*",
        )


class LambdaFactory(Construct):
    """Holds what all functions share: the `lambdas/` code asset, the Powertools layer, common environment; and
    every function it created (`created`, which the stack's monitoring watches)."""

    RUNTIME = lambda_.Runtime.PYTHON_3_11
    ARCHITECTURE = lambda_.Architecture.ARM_64

    def __init__(self, scope: Construct, construct_id: str, *, config: SagestepConfig, key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        self.config = config
        self.key = key
        self.created: list[ServiceFunction] = []
        self.code = lambda_.Code.from_asset(str(constants.LAMBDA_ASSET_DIR), exclude=constants.ASSET_EXCLUDES)
        self.powertools_layer = lambda_.LayerVersion.from_layer_version_arn(
            self, "PowertoolsLayer", self.powertools_layer_arn(config)
        )
        self.common_environment = {
            constants.ENV_POWERTOOLS_SERVICE_NAME: constants.APP_NAME,
            constants.ENV_POWERTOOLS_METRICS_NAMESPACE: constants.APP_NAME,
            constants.ENV_LOG_LEVEL: config.log_level,
        }

    def powertools_layer_arn(self, config: SagestepConfig) -> str:
        """The public Powertools v3 layer for python3.11/arm64 in the stack's region.

        By default CloudFormation reads the ARN from Powertools' public SSM parameter for the package version
        `powertoolsVersion` (a `{{resolve:ssm:...}}` reference, so no layer number is hard-coded per region);
        context `powertoolsLayerVersion` names the layer version directly instead.
        """
        if config.powertools_layer_version is not None:
            return Stack.of(self).format_arn(
                service="lambda",
                account=constants.POWERTOOLS_LAYER_ACCOUNT,
                resource="layer",
                resource_name=f"{constants.POWERTOOLS_LAYER_NAME}:{config.powertools_layer_version}",
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            )
        parameter = f"{constants.POWERTOOLS_LAYER_SSM_PREFIX}/{config.powertools_version}"
        return CfnDynamicReference(CfnDynamicReferenceService.SSM, parameter).to_string()

    def create(
        self,
        scope: Construct,
        name: str,
        *,
        environment: Mapping[str, str],
        description: str,
        handler: str | None = None,
        timeout_seconds: int = 60,
        memory_size: int = 256,
    ) -> ServiceFunction:
        """Create the function `name` under `scope`; `handler` defaults to the platform's
        `constants.HANDLERS[name]` (a workflow names its own task handlers)."""
        function = ServiceFunction(
            scope,
            name,
            factory=self,
            handler=handler or constants.HANDLERS[name],
            environment=environment,
            description=description,
            timeout=Duration.seconds(timeout_seconds),
            memory_size=memory_size,
        )
        self.created.append(function)
        return function
