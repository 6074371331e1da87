"""Workflow 3, translation: a folder of mixed documents through Amazon Translate batch jobs, one per content type,
the results put back in the folder's structure per language (``statemachines/translation.asl.json``).

``routes`` (API), ``queue`` (the SQS entry), ``handlers`` (the state machine's task functions), ``waiters``
(Translate job waits), ``submission``, ``staging``, ``restore``, ``results``, ``failure``, ``models``,
``settings`` and ``translate_service`` (what Translate accepts).
"""

from sagestep_service.platform.registry import Workflow

#: Statuses in which the translation state machine is still working on a job.
RUNNING_STATUSES = frozenset({"SUBMITTED", "STAGING", "TRANSLATING"})

WORKFLOW = Workflow(
    name="translation",
    kinds=("translation",),
    running_statuses=RUNNING_STATUSES,
    routes="sagestep_service.workflows.translation.routes",
    waiters="sagestep_service.workflows.translation.waiters:WAITERS",
    cleanup="sagestep_service.workflows.translation.failure:clean_up_abandoned",
)
