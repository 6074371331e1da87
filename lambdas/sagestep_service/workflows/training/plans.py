"""Turn a validated request into the exact SageMaker parameters the training state machine passes on.

The plan is built once, at submission, and travels in the execution input: the state machine only
orchestrates, and a reader of the execution sees every parameter that was sent to SageMaker.
"""

from __future__ import annotations

from typing import Any

from sagestep_service.platform.errors import BadRequest
from sagestep_service.workflows.training import datasets
from sagestep_service.workflows.training.models import HpoRequest, TrainRequest
from sagestep_service.workflows.training.settings import TrainingSettings

TRAIN_CHANNEL = "train"
VARIANT_NAME = "AllTraffic"

#: Lines the training container prints (containers/training); SageMaker keeps the last value of each.
METRIC_DEFINITIONS = [
    {"Name": name, "Regex": f"{name}=([-+0-9.eE]+);"}
    for name in ("validation_loss", "validation_abs_err_p95", "validation_accuracy", "validation_f1")
]

#: Native tuning: the metric each problem type optimises, as the in-container search does.
OBJECTIVES = {
    "regression": ("validation_abs_err_p95", "Minimize"),
    "classification": ("validation_f1", "Maximize"),
}

#: Native tuning search space (the in-container strategy has its own, in the container).
PARAMETER_RANGES: dict[str, list[dict[str, Any]]] = {
    "IntegerParameterRanges": [
        {"Name": "hidden_layers", "MinValue": "1", "MaxValue": "4", "ScalingType": "Linear"},
        {"Name": "hidden_units", "MinValue": "8", "MaxValue": "256", "ScalingType": "Logarithmic"},
    ],
    "ContinuousParameterRanges": [
        {"Name": "dropout", "MinValue": "0.0", "MaxValue": "0.5", "ScalingType": "Linear"},
        {"Name": "learning_rate", "MinValue": "0.0001", "MaxValue": "0.1", "ScalingType": "Logarithmic"},
    ],
    "CategoricalParameterRanges": [
        {"Name": "batch_norm", "Values": ["true", "false"]},
        {"Name": "optimizer", "Values": ["adam", "adamw", "sgd", "rmsprop"]},
        {"Name": "activation", "Values": ["relu", "tanh", "gelu", "leaky_relu", "elu"]},
    ],
}


def hyperparameter_strings(values: dict[str, Any]) -> dict[str, str]:
    """SageMaker passes hyperparameters as strings; booleans become ``true``/``false``."""
    return {k: (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in values.items()}


def tags(settings: TrainingSettings, job_id: str, owner: str) -> list[dict[str, str]]:
    """Tags on everything a job creates: cleanup and eviction touch only what carries them."""
    return [
        {"Key": "sagestep:app", "Value": "sagestep"},
        {"Key": "sagestep:stack", "Value": settings.stack_name},
        {"Key": "sagestep:job-id", "Value": job_id},
        {"Key": "sagestep:owner", "Value": owner},
    ]


def _job_definition(
    settings: TrainingSettings, job_id: str, data_uri: str, instance_type: str | None, max_runtime: int
) -> dict[str, Any]:
    """What a training job and a tuning job's training job definition share."""
    return {
        "AlgorithmSpecification": {
            "TrainingImage": settings.training_image_uri,
            "TrainingInputMode": "File",
            "MetricDefinitions": METRIC_DEFINITIONS,
        },
        "RoleArn": settings.sagemaker_role_arn,
        "InputDataConfig": [
            {
                "ChannelName": TRAIN_CHANNEL,
                "ContentType": "text/csv",
                "DataSource": {
                    "S3DataSource": {
                        **datasets.data_source(data_uri, settings.artifact_bucket, job_id),
                        "S3DataDistributionType": "FullyReplicated",
                    }
                },
            }
        ],
        "OutputDataConfig": {"S3OutputPath": f"s3://{settings.artifact_bucket}/jobs"},
        "ResourceConfig": {
            "InstanceType": instance_type or settings.training_instance_type,
            "InstanceCount": 1,
            "VolumeSizeInGB": 10,
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": max_runtime},
        "EnableNetworkIsolation": True,
    }


def _training_job_fields(
    settings: TrainingSettings, job_id: str, data_uri: str, instance_type: str | None, max_runtime: int
) -> dict[str, Any]:
    """A training job's fields but the role: the state machine passes the stack's SageMaker role itself
    (``${SageMakerRoleArn}``), so a plan cannot name another role."""
    fields = _job_definition(settings, job_id, data_uri, instance_type, max_runtime)
    del fields["RoleArn"]
    return fields


def training_plan(
    settings: TrainingSettings,
    job_id: str,
    owner: str,
    request: TrainRequest,
    data_uri: str,
    target: str,
    problem_type: str,
    hyperparameters: dict[str, Any],
    previous: dict[str, Any] | None,
) -> dict[str, Any]:
    """Plan for TRAIN mode: training job, model, endpoint config and endpoint (created, or the endpoint of
    ``previous`` updated in place with blue/green guardrails)."""
    job_tags = tags(settings, job_id, owner)
    training_job = {
        "TrainingJobName": job_id,
        **_training_job_fields(settings, job_id, data_uri, request.instanceType, request.maxRuntimeSeconds),
        "HyperParameters": hyperparameter_strings(
            {**hyperparameters, "target": target, "problem_type": problem_type, "mode": "train"}
        ),
        "Tags": job_tags,
    }
    deployment = request.deployment
    plan: dict[str, Any] = {
        "trainingJob": training_job,
        "model": {
            "ModelName": job_id,
            "ExecutionRoleArn": settings.sagemaker_role_arn,
            "Image": settings.training_image_uri,
            "Environment": {"SAGESTEP_JOB_ID": job_id},
            "EnableNetworkIsolation": True,
            "Tags": job_tags,
        },
        "endpointConfig": {
            "EndpointConfigName": job_id,
            "ProductionVariants": [
                {
                    "VariantName": VARIANT_NAME,
                    "ModelName": job_id,
                    "InitialInstanceCount": deployment.instanceCount,
                    "InstanceType": deployment.instanceType or settings.endpoint_instance_type,
                }
            ],
            "Tags": job_tags,
        },
        "endpointDeadlineSeconds": deployment.deadlineSeconds or settings.endpoint_deadline_seconds,
    }
    if previous is None:
        plan["deployMode"] = "CREATE"
        plan["previousJobId"] = None
        plan["endpoint"] = {"EndpointName": job_id, "EndpointConfigName": job_id, "Tags": job_tags}
    else:
        plan["deployMode"] = "UPDATE"
        plan["previousJobId"] = previous["jobId"]
        plan["endpoint"] = {
            "EndpointName": previous["resources"]["endpointName"],
            "EndpointConfigName": job_id,
            "DeploymentConfig": deployment_config(
                deployment.trafficRouting,
                deployment.autoRollbackAlarmName,
                deployment.deadlineSeconds or settings.endpoint_deadline_seconds,
            ),
        }
    return plan


#: Seconds SageMaker watches the rollback alarm after shifting traffic (alarms are only evaluated then).
BAKING_SECONDS = 600


def deployment_config(traffic_routing: str, alarm_name: str | None, deadline_seconds: int) -> dict[str, Any]:
    """SageMaker deployment guardrails for an in-place update: blue/green, optionally with a canary and
    automatic rollback on a CloudWatch alarm. SageMaker gives up (and rolls back) by the job's deadline,
    within its bounds of 600 to 14,400 s, so that a job that fails its deadline does not see its update
    completed later."""
    baking = BAKING_SECONDS if alarm_name else 0
    routing: dict[str, Any] = {"Type": traffic_routing, "WaitIntervalInSeconds": baking}
    if traffic_routing == "CANARY":
        routing = {
            "Type": "CANARY",
            "WaitIntervalInSeconds": max(baking, 300),
            "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 10},
        }
    config: dict[str, Any] = {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": routing,
            "TerminationWaitInSeconds": 120,
            "MaximumExecutionTimeoutInSeconds": min(max(deadline_seconds, 600), 14400),
        }
    }
    if alarm_name:
        config["AutoRollbackConfiguration"] = {"Alarms": [{"AlarmName": alarm_name}]}
    return config


def hpo_plan(
    settings: TrainingSettings, job_id: str, owner: str, request: HpoRequest, problem_type: str
) -> dict[str, Any]:
    """Plan for HPO mode: one training job that searches in-container, or a native tuning job, for
    ``problem_type`` (the request's or the inferred one)."""
    definition = _job_definition(settings, job_id, request.dataUri, request.instanceType, request.maxRuntimeSeconds)
    fixed = {**request.hyperparameters, "target": request.target, "problem_type": problem_type}
    job_tags = tags(settings, job_id, owner)
    if request.strategy == "in-container":
        hyperparameters = {
            **fixed,
            "mode": "hpo",
            "hpo_trials": request.maxTrials,
            "hpo_data_fraction": request.dataFraction,
            "hpo_epochs": request.epochsPerTrial,
        }
        return {
            "hpoStrategy": "in-container",
            "trainingJob": {
                "TrainingJobName": job_id,
                **_training_job_fields(
                    settings, job_id, request.dataUri, request.instanceType, request.maxRuntimeSeconds
                ),
                "HyperParameters": hyperparameter_strings(hyperparameters),
                "Tags": job_tags,
            },
        }
    metric, direction = OBJECTIVES[problem_type]
    ranges = {
        kind: [r for r in items if r["Name"] not in request.hyperparameters] for kind, items in PARAMETER_RANGES.items()
    }
    if not any(ranges.values()):
        raise BadRequest("hyperparameters", "fixes every hyperparameter the sagemaker strategy tunes")
    return {
        "hpoStrategy": "sagemaker",
        "tuningJob": {
            "HyperParameterTuningJobName": job_id,
            "HyperParameterTuningJobConfig": {
                "Strategy": "Bayesian",
                "HyperParameterTuningJobObjective": {"Type": direction, "MetricName": metric},
                "ResourceLimits": {
                    "MaxNumberOfTrainingJobs": request.maxTrials,
                    "MaxParallelTrainingJobs": request.maxParallelTrials,
                },
                "ParameterRanges": ranges,
                "TrainingJobEarlyStoppingType": "Off",
            },
            "TrainingJobDefinition": {
                **definition,
                "StaticHyperParameters": hyperparameter_strings(
                    {**fixed, "mode": "train", "epochs": request.epochsPerTrial}
                ),
            },
            "Tags": job_tags,
        },
    }
