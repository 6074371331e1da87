"""Encryption key and S3 buckets: training data, artifacts (models, HPO results) and server access logs."""

from __future__ import annotations

from aws_cdk import Aws, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.platform import permissions
from stacks.platform.config import SagestepConfig
from stacks.platform.labels import label


class Storage(Construct):
    """The stack's customer-managed KMS key and its three buckets.

    Every bucket blocks public access and denies non-TLS requests. Data and artifact buckets are versioned,
    encrypted with the key and log access to the access-log bucket, which uses SSE-S3 because S3 server
    access logging cannot deliver to an SSE-KMS bucket.
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: SagestepConfig) -> None:
        super().__init__(scope, construct_id)
        removal = config.removal_policy
        destroy = config.destroy_on_removal

        self.key = kms.Key(
            self,
            "Key",
            description=f"sagestep ({Stack.of(self).stack_name}): data, artifacts, job table, topic, logs",
            enable_key_rotation=True,
            removal_policy=removal,
            pending_window=Duration.days(7) if destroy else None,
        )
        # CloudWatch Logs encrypts the stack's log groups (Lambda, API access logs, state machine) with the key.
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchLogsOfThisAccount",
                principals=[iam.ServicePrincipal(f"logs.{Aws.REGION}.amazonaws.com")],
                actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                resources=["*"],
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": (
                            f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:log-group:*"
                        )
                    }
                },
            )
        )

        self.access_log_bucket = s3.Bucket(
            self,
            "AccessLogBucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            versioned=False,
            lifecycle_rules=[s3.LifecycleRule(id="ExpireAccessLogs", expiration=Duration.days(365))],
            removal_policy=removal,
            auto_delete_objects=destroy,
        )

        self.data_bucket = self._encrypted_bucket("DataBucket", "data/", config)
        self.artifact_bucket = self._encrypted_bucket("ArtifactBucket", "artifacts/", config)
        label(self.key, "Key")
        label(self.access_log_bucket, "AccessLogBucket")
        label(self.data_bucket, "DataBucket")
        label(self.artifact_bucket, "ArtifactBucket")

    def _encrypted_bucket(self, construct_id: str, log_prefix: str, config: SagestepConfig) -> s3.Bucket:
        return s3.Bucket(
            self,
            construct_id,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            versioned=True,
            server_access_logs_bucket=self.access_log_bucket,
            server_access_logs_prefix=log_prefix,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="ExpireOldVersions",
                    noncurrent_version_expiration=Duration.days(30),
                    abort_incomplete_multipart_upload_after=Duration.days(7),
                )
            ],
            removal_policy=config.removal_policy,
            auto_delete_objects=config.destroy_on_removal,
        )

    # Grants are explicit statements (no `s3:Get*`/`kms:*` style wildcards); the only wildcard left is the
    # object key, acknowledged on the role that receives it.

    def grant_read(self, role: iam.Role, bucket: s3.IBucket, purpose: str) -> None:
        """Let `role` list `bucket` and read its objects (and decrypt them); `purpose` says why."""
        permissions.allow(role, ["s3:ListBucket"], [bucket.bucket_arn])
        permissions.allow(role, ["s3:GetObject"], [bucket.arn_for_objects("*")], reason=_object_reason(purpose))
        self.grant_decrypt(role)

    def grant_read_write(self, role: iam.Role, bucket: s3.IBucket, purpose: str) -> None:
        """Let `role` list `bucket`, read and write its objects (and use the key for them)."""
        permissions.allow(role, ["s3:ListBucket", "s3:GetBucketLocation"], [bucket.bucket_arn])
        permissions.allow(
            role,
            ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
            [bucket.arn_for_objects("*")],
            reason=_object_reason(purpose),
        )
        self.grant_encrypt_decrypt(role)

    def grant_put(self, role: iam.Role, bucket: s3.IBucket, key_pattern: str, purpose: str) -> None:
        """Let `role` write objects whose keys match `key_pattern` (e.g. `users/*`) and encrypt them."""
        permissions.allow(role, ["s3:PutObject"], [bucket.arn_for_objects(key_pattern)], reason=_object_reason(purpose))
        permissions.allow(role, ["kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"], [self.key.key_arn])

    def grant_list(self, role: iam.Role, bucket: s3.IBucket) -> None:
        """Let `role` list object keys of `bucket` (e.g. to check that a data prefix is not empty)."""
        permissions.allow(role, ["s3:ListBucket"], [bucket.bucket_arn])

    def grant_decrypt(self, role: iam.Role) -> None:
        permissions.allow(role, ["kms:Decrypt", "kms:DescribeKey"], [self.key.key_arn])

    def grant_encrypt_decrypt(self, role: iam.Role) -> None:
        permissions.allow(
            role, ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"], [self.key.key_arn]
        )


def _object_reason(purpose: str) -> str:
    return f"Object keys are chosen per job at run time; access is limited to this one bucket ({purpose})."
