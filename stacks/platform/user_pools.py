"""The Cognito user pools of the stack, configured one way: the API's users (`api.py`) and the labelers of the
stack's own Ground Truth workforce (`stacks/workflows/labeling.py`)."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from stacks.platform import nag
from stacks.platform.config import SagestepConfig
from stacks.platform.labels import label


def user_pool(
    scope: Construct,
    construct_id: str,
    config: SagestepConfig,
    *,
    self_sign_up: bool,
    optional_mfa_reason: str,
) -> cognito.UserPool:
    """A pool with e-mail sign-in, a 12-character password policy, TOTP MFA (required with context `requireMfa`,
    else optional for the reason given), e-mail-only recovery, the deployment's feature plan and removal policy;
    labelled `construct_id`."""
    pool = cognito.UserPool(
        scope,
        construct_id,
        self_sign_up_enabled=self_sign_up,
        sign_in_aliases=cognito.SignInAliases(email=True, username=False),
        auto_verify=cognito.AutoVerifiedAttrs(email=True),
        password_policy=cognito.PasswordPolicy(
            min_length=12,
            require_lowercase=True,
            require_uppercase=True,
            require_digits=True,
            require_symbols=True,
            temp_password_validity=Duration.days(3),
        ),
        mfa=cognito.Mfa.REQUIRED if config.require_mfa else cognito.Mfa.OPTIONAL,
        mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
        account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
        feature_plan=cognito.FeaturePlan.PLUS if config.cognito_plus_plan else cognito.FeaturePlan.ESSENTIALS,
        standard_threat_protection_mode=(
            cognito.StandardThreatProtectionMode.FULL_FUNCTION if config.cognito_plus_plan else None
        ),
        removal_policy=config.removal_policy,
        deletion_protection=not config.destroy_on_removal,
    )
    label(pool, construct_id)
    if not config.require_mfa:
        nag.acknowledge(pool, "COG2", optional_mfa_reason)
    if not config.cognito_plus_plan:
        nag.acknowledge(
            pool,
            "COG8",
            "The Plus feature plan (threat protection) is billed per user; deployments enable it with "
            "context cognitoFeaturePlan=plus.",
        )
    return pool
