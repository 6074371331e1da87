"""Workflow 1, training: train, tune (HPO), deploy and query models (``statemachines/training.asl.json``).

``routes`` (API), ``handlers`` (the state machine's task functions), ``waiters`` (endpoint waits), the logic
modules beside them, ``models`` (requests, views, statuses) and ``settings``.
"""

from sagestep_service.platform.registry import Workflow

#: Statuses in which the training state machine is still working on a job.
RUNNING_STATUSES = frozenset(
    {"SUBMITTED", "TRAINING_MODEL", "CREATING_MODEL", "CONFIGURING_ENDPOINT", "DEPLOYING_ENDPOINT", "HPO_RUNNING"}
)

WORKFLOW = Workflow(
    name="training",
    kinds=("model", "hpo"),
    running_statuses=RUNNING_STATUSES,
    routes="sagestep_service.workflows.training.routes",
    waiters="sagestep_service.workflows.training.waiters:WAITERS",
    cleanup="sagestep_service.workflows.training.failure:clean_up_abandoned",
)
