"""Field names of the reference web app sagestep replaces (docs: DESIGN.md, Workflow 1) and sagestep's own.

A script written for the reference app sends its request bodies; instead of "Extra inputs are not permitted",
such a field gets a 400 that names the field to use. The table holds the reference's top-level body fields of
its start-training, start-HPO and inference functions that have a counterpart here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

_BOTH = {
    "trainingDataS3Name": "dataUri (an s3:// URI in the data bucket, not a file name under public/)",
    "batchNormalization": "hyperparameters.batch_norm",
    "includeDropout": "hyperparameters.dropout (0 for none)",
    "lrUpdatePatience": "hyperparameters.lr_patience",
    "earlyStoppingPatience": "hyperparameters.early_stopping_patience",
    "lossMetric": "problemType (the loss and the metrics follow from it)",
    "monitorMetric": "problemType (the loss and the metrics follow from it)",
}

#: ``POST /model``.
TRAIN = {
    **_BOTH,
    "modelName": "description (sagestep names the model, its endpoint and its job after the jobId it returns)",
    "nbEpochsF": "hyperparameters.epochs",
    "batchSizeF": "hyperparameters.batch_size",
    "optimizerF": "hyperparameters.optimizer",
    "lastActivationF": "problemType (the output layer follows from it)",
    "nodes": "hyperparameters.hidden_units and hyperparameters.hidden_layers (every hidden layer has one width)",
}

#: ``POST /hpo``.
HPO = {
    **_BOTH,
    "maxEval": "maxTrials",
    "nbEpochs": "epochsPerTrial",
    "usedDataPercentage": "dataFraction (a fraction in (0, 1], not a percentage)",
    "trainValidationSplit": "hyperparameters.validation_fraction",
    "randomState": "hyperparameters.seed",
    "batchSize": "hyperparameters.batch_size",
    "dropout": "hyperparameters.dropout",
}

#: ``POST /infer``: the reference's ``modelName`` was the endpoint's name.
INFER = {"modelName": "jobId (the model job's id) or endpointName"}


def reject(title: str, data: Any, fields: Mapping[str, str]) -> None:
    """Raise a validation error at each of ``fields`` that ``data`` holds, naming sagestep's field instead."""
    if not isinstance(data, dict):
        return
    errors = [
        InitErrorDetails(
            type=PydanticCustomError("reference_field", "is a field of the reference web app; use {use}", {"use": use}),
            loc=(name,),
            input=data[name],
        )
        for name, use in fields.items()
        if name in data
    ]
    if errors:
        raise ValidationError.from_exception_data(title, errors)
