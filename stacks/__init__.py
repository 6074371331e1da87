"""The sagestep CDK app: one construct per capability (see docs/architecture.md)."""
