"""CloudWatch alarms and dashboards: skipped, no metrics are collected locally."""

from __future__ import annotations

from sagestep.local.cloudformation.registry import Service

SERVICE = Service(
    skipped=dict.fromkeys(
        ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm", "AWS::CloudWatch::Dashboard"),
        "no metrics are collected locally",
    )
)
