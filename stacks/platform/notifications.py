"""The SNS topic that carries one completion or failure message per job (users subscribe to it; operator alarms
go to `OperatorTopic`)."""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from stacks.platform.labels import label


class Notifications(Construct):
    """KMS-encrypted topic whose policy denies publishing and subscribing without TLS."""

    def __init__(self, scope: Construct, construct_id: str, *, key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        self._key = key
        self.topic = sns.Topic(
            self,
            "Topic",
            display_name="sagestep job notifications",
            master_key=key,
            enforce_ssl=True,
        )
        label(self.topic, "Topic")

    def grant_publish(self, role: iam.Role) -> None:
        """Publish to the topic (and use the key to encrypt the message)."""
        role.add_to_policy(iam.PolicyStatement(actions=["sns:Publish"], resources=[self.topic.topic_arn]))
        role.add_to_policy(
            iam.PolicyStatement(actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=[self._key.key_arn])
        )
