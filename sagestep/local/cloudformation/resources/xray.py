"""X-Ray groups and sampling rules: skipped, tracing is disabled locally."""

from __future__ import annotations

from sagestep.local.cloudformation.registry import Service

SERVICE = Service(skipped=dict.fromkeys(("AWS::XRay::Group", "AWS::XRay::SamplingRule"), "tracing is disabled locally"))
