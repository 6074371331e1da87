"""sagestep: serverless ML workflow orchestration on AWS, with a local mode that needs no account."""

__version__ = "0.1.0"
