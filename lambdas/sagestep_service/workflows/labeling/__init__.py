"""Workflow 2, hierarchical labeling: batches of Ground Truth labeling jobs in levels, the jobs of a level in
parallel, each later level auditing or adjusting the output of earlier ones (``statemachines/labeling.asl.json``).

``routes`` (API: ``/batch/...``), ``handlers`` (the state machine's task functions and sagestep's own Ground Truth
Lambdas), ``submission``, ``levels`` (between levels: manifests, requests), ``manifests``, ``tasks`` (a job's
CreateLabelingJob request), ``consolidation`` and ``annotations`` (several workers' answers into one label),
``reports``, ``views`` (``GET /batch/show``), ``stopping``, ``failure``, ``models``, ``settings`` and
``ground_truth`` (what Ground Truth offers per modality and region).
"""

from sagestep_service.platform.registry import Workflow

#: Statuses in which the labeling state machine is still working on a batch.
RUNNING_STATUSES = frozenset({"SUBMITTED", "IN_PROGRESS"})

WORKFLOW = Workflow(
    name="labeling",
    kinds=("labeling",),
    running_statuses=RUNNING_STATUSES,
    routes="sagestep_service.workflows.labeling.routes",
    cleanup="sagestep_service.workflows.labeling.failure:clean_up_abandoned",
)
