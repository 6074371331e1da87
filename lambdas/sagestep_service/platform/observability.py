"""The Powertools logger, tracer and metrics every sagestep function uses."""

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics()
