"""Deployment settings read from CDK context (`cdk.json`, or `-c key=value` on the command line)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aws_cdk import Aws, RemovalPolicy
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.platform import constants

CDK_JSON = constants.REPO_ROOT / "cdk.json"

LOG_RETENTION = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    731: logs.RetentionDays.TWO_YEARS,
}


def cdk_json_context() -> dict[str, Any]:
    """Return the `context` block of `cdk.json`.

    The CDK CLI passes it to the app; `python app.py` (tests, CI without Node) passes it to `App(context=...)`
    so both synthesize the same template. Values given by the CLI take precedence.
    """
    if not CDK_JSON.exists():
        return {}
    context: dict[str, Any] = json.loads(CDK_JSON.read_text(encoding="utf-8")).get("context", {})
    return context


def _as_bool(value: Any) -> bool:
    # `-c flag=true` arrives as a string, cdk.json values as JSON booleans.
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


def _as_list(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, list):
        return [str(item) for item in value]
    return [item.strip() for item in str(value).split(",") if item.strip()]


def _queue_prefixes(value: Any) -> tuple[str, ...]:
    prefixes = tuple(prefix if prefix.endswith("/") else prefix + "/" for prefix in _as_list(value))
    for prefix in prefixes:
        if prefix.startswith("users/") or prefix.startswith("/") or "*" in prefix:
            raise ValueError(
                f"context 'translationQueuePrefixes': {prefix!r} must be a plain data bucket prefix outside users/"
            )
    if not prefixes:
        raise ValueError("context 'translationQueuePrefixes' must name at least one prefix")
    return prefixes


def _arn_patterns(key: str, value: Any, service: str) -> tuple[str, ...]:
    """ARNs (``*`` allowed after the account) of one service, from a list or a comma-separated string."""
    patterns = tuple(_as_list(value))
    for pattern in patterns:
        parts = pattern.split(":")
        if len(parts) < 6 or parts[0] != "arn" or parts[2] != service or "*" in ":".join(parts[:5]):
            raise ValueError(f"context {key!r}: {pattern!r} must be an {service} ARN (a '*' only after the account)")
    return patterns


@dataclass(frozen=True)
class SagestepConfig:
    """Typed view of the context values the stack understands (defaults in `cdk.json`).

    Context keys: `stackName`; `removalPolicy` (`retain`, or `destroy` for development stacks: stateful
    resources are deleted with the stack, buckets emptied); `logLevel`, `logRetentionDays`;
    `powertoolsVersion` (Powertools layer by package version, read from Powertools' public SSM parameter) or
    `powertoolsLayerVersion` (layer version number); `trainingImageUri` (an existing image instead of building
    `containers/training`); `trainingInstanceType`, `endpointInstanceType`, `maxEndpoints`,
    `endpointDeadlineSeconds`; `selfSignUp`, `requireMfa`, `cognitoFeaturePlan` (`essentials` or `plus`);
    `apiThrottleRateLimit`, `apiThrottleBurstLimit`, `apiCloudWatchRole` (create API Gateway's account-level
    logging role), `apiWebAclArn` (WAFv2 web ACL to associate), `corsAllowOrigins` (enables CORS preflight);
    `translationDeadlineSeconds` (how long a Translate batch job may run), `translationQueuePrefixes` (data bucket
    prefixes that messages of the translation queue may name; none may be a user's `users/` prefix);
    `documentsDeadlineSeconds` (how long Textract may take per document); `labelingWorkteamArn` (an existing private
    work team for labeling jobs; default: the stack creates a workforce and a team of its own),
    `labelingDeadlineSeconds`
    (how long a level of labeling jobs may take), `labelingDestinationTopics` (SNS topic ARNs, `*` patterns allowed,
    that a batch's `destinationSnsArn` may name), `labelingCustomLambdas` (Lambda ARNs, patterns allowed, that `Custom`
    labeling jobs may name); `sdkForPandasLayerArn` (the AWS SDK for pandas layer, Python 3.11 arm64, whose pyarrow
    writes labeling reports as Parquet; default: version 2, the one of library 3.4.0 in every Ground Truth region).
    """

    removal_policy: RemovalPolicy
    log_level: str
    log_retention: logs.RetentionDays
    powertools_version: str
    powertools_layer_version: int | None
    training_image_uri: str
    training_instance_type: str
    endpoint_instance_type: str
    max_endpoints: int
    endpoint_deadline_seconds: int
    self_sign_up: bool
    require_mfa: bool
    cognito_plus_plan: bool
    api_throttle_rate_limit: int
    api_throttle_burst_limit: int
    api_cloudwatch_role: bool
    api_web_acl_arn: str
    cors_allow_origins: list[str]
    translation_deadline_seconds: int = 6 * 3600
    translation_queue_prefixes: tuple[str, ...] = ("queue/",)
    documents_deadline_seconds: int = 3600
    labeling_workteam_arn: str = ""
    labeling_deadline_seconds: int = 14 * 24 * 3600
    labeling_destination_topics: tuple[str, ...] = ()
    labeling_custom_lambdas: tuple[str, ...] = ()
    sdk_for_pandas_layer_arn: str = ""

    @property
    def destroy_on_removal(self) -> bool:
        return self.removal_policy == RemovalPolicy.DESTROY

    @classmethod
    def from_context(cls, scope: Construct) -> SagestepConfig:
        """Read and validate the settings; raise ValueError with the offending key on a bad value."""

        def get(key: str, default: Any) -> Any:
            value = scope.node.try_get_context(key)
            return default if value is None else value

        def get_int(key: str, default: int, minimum: int = 0) -> int:
            try:
                value = int(get(key, default))
            except (TypeError, ValueError) as exc:
                raise ValueError(f"context {key!r} must be an integer") from exc
            if value < minimum:
                raise ValueError(f"context {key!r} must be >= {minimum}, got {value}")
            return value

        removal = str(get("removalPolicy", "retain")).lower()
        if removal not in {"retain", "destroy"}:
            raise ValueError("context 'removalPolicy' must be 'retain' or 'destroy'")
        log_level = str(get("logLevel", "INFO")).upper()
        if log_level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("context 'logLevel' must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        retention_days = get_int("logRetentionDays", 30, minimum=1)
        if retention_days not in LOG_RETENTION:
            raise ValueError(f"context 'logRetentionDays' must be one of {sorted(LOG_RETENTION)}")
        plan = str(get("cognitoFeaturePlan", "essentials")).lower()
        if plan not in {"essentials", "plus"}:
            raise ValueError("context 'cognitoFeaturePlan' must be 'essentials' or 'plus'")

        return cls(
            removal_policy=RemovalPolicy.DESTROY if removal == "destroy" else RemovalPolicy.RETAIN,
            log_level=log_level,
            log_retention=LOG_RETENTION[retention_days],
            powertools_version=str(get("powertoolsVersion", "3.37.0")),
            powertools_layer_version=(
                get_int("powertoolsLayerVersion", 1, minimum=1) if get("powertoolsLayerVersion", "") != "" else None
            ),
            training_image_uri=str(get("trainingImageUri", "")),
            training_instance_type=str(get("trainingInstanceType", "ml.m5.large")),
            endpoint_instance_type=str(get("endpointInstanceType", "ml.m5.large")),
            max_endpoints=get_int("maxEndpoints", 5, minimum=1),
            endpoint_deadline_seconds=get_int("endpointDeadlineSeconds", 3600, minimum=60),
            self_sign_up=_as_bool(get("selfSignUp", False)),
            require_mfa=_as_bool(get("requireMfa", False)),
            cognito_plus_plan=plan == "plus",
            api_throttle_rate_limit=get_int("apiThrottleRateLimit", 50, minimum=1),
            api_throttle_burst_limit=get_int("apiThrottleBurstLimit", 100, minimum=1),
            api_cloudwatch_role=_as_bool(get("apiCloudWatchRole", True)),
            api_web_acl_arn=str(get("apiWebAclArn", "")),
            cors_allow_origins=_as_list(get("corsAllowOrigins", [])),
            translation_deadline_seconds=get_int("translationDeadlineSeconds", 6 * 3600, minimum=60),
            translation_queue_prefixes=_queue_prefixes(get("translationQueuePrefixes", ["queue/"])),
            documents_deadline_seconds=get_int("documentsDeadlineSeconds", 3600, minimum=60),
            labeling_workteam_arn=str(get("labelingWorkteamArn", "")),
            labeling_deadline_seconds=get_int("labelingDeadlineSeconds", 14 * 24 * 3600, minimum=60),
            labeling_destination_topics=_arn_patterns(
                "labelingDestinationTopics", get("labelingDestinationTopics", []), "sns"
            ),
            sdk_for_pandas_layer_arn=str(
                get(
                    "sdkForPandasLayerArn",
                    f"arn:aws:lambda:{Aws.REGION}:336392948345:layer:AWSSDKPandas-Python311-Arm64:2",
                )
            ),
            labeling_custom_lambdas=_arn_patterns("labelingCustomLambdas", get("labelingCustomLambdas", []), "lambda"),
        )
