"""Fixtures shared by every test folder: a process environment that can never reach real AWS, and the
synthesized CloudFormation template of the real stack (built once per session, cached across sessions)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sagestep.local.cloudformation import CloudAssembly, synthesize_assembly

REPO = Path(__file__).resolve().parent.parent

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "CDK_DISABLE_CLI_TELEMETRY": "true",
    }
)


@pytest.fixture(scope="session")
def stack_assembly() -> CloudAssembly:
    """The real stack, synthesized as `cdk deploy` would (cached under .sagestep/synth by source hash)."""
    return synthesize_assembly(REPO, REPO / ".sagestep" / "synth")
