"""Build the CDK app (used by app.py and by the infrastructure tests)."""

from __future__ import annotations

from typing import Any

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks

from stacks.platform import constants
from stacks.platform.config import cdk_json_context
from stacks.sagestep_stack import SagestepStack


def create_app(context: dict[str, Any] | None = None, outdir: str | None = None) -> App:
    """The app with the sagestep stack and cdk-nag AwsSolutions checks (findings fail synthesis).

    `context` is added to (and overrides) the `cdk.json` context; the CDK CLI's own context wins over both.
    """
    app = App(context={**cdk_json_context(), **(context or {})}, outdir=outdir)
    stack_name = app.node.try_get_context("stackName") or constants.DEFAULT_STACK_NAME
    SagestepStack(app, stack_name, description="sagestep: serverless ML workflows (SageMaker, Step Functions)")
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app
