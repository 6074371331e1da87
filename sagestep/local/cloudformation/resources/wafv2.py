"""WAF web ACLs: skipped, the local gateway applies none."""

from __future__ import annotations

from sagestep.local.cloudformation.registry import Service

SERVICE = Service(
    skipped=dict.fromkeys(
        ("AWS::WAFv2::WebACL", "AWS::WAFv2::WebACLAssociation"), "the local gateway applies no web ACL"
    )
)
