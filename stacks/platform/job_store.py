"""The job table: one record per submission (docs/architecture.md, "Job record")."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from stacks.platform import constants
from stacks.platform.config import SagestepConfig
from stacks.platform.labels import label


class JobStore(Construct):
    """DynamoDB table keyed by `jobId`, with the GSI `byOwnerKind` (listing). It also holds the wait records of
    event-driven waits (`wait#<type>#<name>`, found by a consistent GetItem), removed by TTL (`expiresAt`) if
    nothing resumed them.

    On-demand capacity, point-in-time recovery, encrypted with the stack's customer-managed key.
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: SagestepConfig, key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        self._key = key
        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=dynamodb.Attribute(
                name=constants.JOBS_TABLE_PARTITION_KEY, type=dynamodb.AttributeType.STRING
            ),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=key,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute=constants.JOBS_TABLE_TTL_ATTRIBUTE,
            deletion_protection=config.removal_policy == RemovalPolicy.RETAIN,
            removal_policy=config.removal_policy,
        )
        self.table.add_global_secondary_index(
            index_name=constants.GSI_BY_OWNER_KIND,
            partition_key=dynamodb.Attribute(
                name=constants.GSI_BY_OWNER_KIND_PARTITION_KEY, type=dynamodb.AttributeType.STRING
            ),
            sort_key=dynamodb.Attribute(name=constants.GSI_BY_OWNER_KIND_SORT_KEY, type=dynamodb.AttributeType.STRING),
            projection_type=dynamodb.ProjectionType.ALL,
        )
        label(self.table, "JobsTable")

    @property
    def index_arns(self) -> list[str]:
        """The ARNs of the indexes, named (not `index/*`)."""
        return [f"{self.table.table_arn}/index/{constants.GSI_BY_OWNER_KIND}"]

    def grant(self, role: iam.Role, actions: Sequence[str], *, query_indexes: Sequence[str] = ()) -> None:
        """Exactly `actions` (e.g. `GetItem`, `UpdateItem`) on the table, and `Query` on the named indexes: for
        every function: no Scan, no BatchGetItem, no table admin."""
        role.add_to_policy(
            iam.PolicyStatement(actions=[f"dynamodb:{a}" for a in actions], resources=[self.table.table_arn])
        )
        if query_indexes:
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=["dynamodb:Query"],
                    resources=[f"{self.table.table_arn}/index/{name}" for name in query_indexes],
                )
            )
        self._grant_key(role, write=any(a != "GetItem" for a in actions))

    def grant_update_item(self, role: iam.Role) -> None:
        """`UpdateItem` only: what the state machine's DynamoDB integration needs to record status changes."""
        role.add_to_policy(iam.PolicyStatement(actions=["dynamodb:UpdateItem"], resources=[self.table.table_arn]))
        self._grant_key(role, write=True)

    def _grant_key(self, role: iam.Role, *, write: bool) -> None:
        actions = ["kms:Decrypt", "kms:DescribeKey"]
        if write:
            actions += ["kms:Encrypt", "kms:GenerateDataKey"]
        role.add_to_policy(iam.PolicyStatement(actions=actions, resources=[self._key.key_arn]))
