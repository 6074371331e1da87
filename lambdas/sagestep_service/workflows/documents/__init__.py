"""Workflow 4, documents: PDFs and images through Amazon Textract, segmented into headers and paragraphs, each
paragraph through Amazon Comprehend (``statemachines/documents.asl.json``)."""

from sagestep_service.platform.registry import Workflow

#: Statuses in which the documents state machine is still working on a job.
RUNNING_STATUSES = frozenset({"SUBMITTED", "ANALYSING"})

WORKFLOW = Workflow(
    name="documents",
    kinds=("documents",),
    running_statuses=RUNNING_STATUSES,
    routes="sagestep_service.workflows.documents.routes",
    waiters="sagestep_service.workflows.documents.waiters:WAITERS",
    cleanup="sagestep_service.workflows.documents.failure:clean_up_abandoned",
)
