"""The operators' SNS topic: the stack's alarms, never job messages (users subscribe to `Notifications.topic`)."""

from __future__ import annotations

from aws_cdk import Aws, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from stacks.platform.config import SagestepConfig
from stacks.platform.labels import label

CLOUDWATCH = "cloudwatch.amazonaws.com"


class OperatorTopic(Construct):
    """A TLS-only topic encrypted with its own customer-managed key.

    The key protects nothing but the alarm messages, so the grant CloudWatch needs to publish to an encrypted
    topic (`kms:GenerateDataKey*`, `kms:Decrypt`) reaches no job data, and only the stack's own alarms (by
    account and alarm name) get it.
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: SagestepConfig) -> None:
        super().__init__(scope, construct_id)
        self.key = kms.Key(
            self,
            "Key",
            description=f"sagestep ({Stack.of(self).stack_name}): operator alarm topic",
            enable_key_rotation=True,
            removal_policy=config.removal_policy,
            pending_window=Duration.days(7) if config.destroy_on_removal else None,
        )
        self.topic = sns.Topic(
            self,
            "Topic",
            display_name="sagestep operator alarms",
            master_key=self.key,
            enforce_ssl=True,
        )
        label(self.key, "OperatorKey")
        label(self.topic, "OperatorTopic")

    def allow_cloudwatch_alarms(self, alarm_name_pattern: str) -> None:
        """Let the CloudWatch alarms of this account and region named `alarm_name_pattern` (e.g. `sagestep-*`)
        publish to the topic and use its key; derive the pattern from the alarms' name prefix, or nothing is
        delivered."""
        conditions = {
            "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
            "ArnLike": {
                "aws:SourceArn": f"arn:{Aws.PARTITION}:cloudwatch:{Aws.REGION}:{Aws.ACCOUNT_ID}:alarm:"
                f"{alarm_name_pattern}"
            },
        }
        principal = iam.ServicePrincipal(CLOUDWATCH)
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowThisStacksAlarms",
                principals=[principal],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions=conditions,
            )
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowThisStacksAlarmsToUseTheTopicKey",
                principals=[principal],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
                conditions=conditions,
            )
        )
