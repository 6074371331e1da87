"""The errors of reading a template and provisioning it locally."""

from __future__ import annotations


class TemplateError(Exception):
    """Base class of the errors of this package."""


class SynthError(TemplateError):
    """The CDK app failed to synthesize."""


class ResolutionError(TemplateError):
    """An intrinsic function could not be evaluated locally; the message names resource and property."""


class ProvisionError(TemplateError):
    """A resource could not be created in the local AWS emulation."""
