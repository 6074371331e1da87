"""The registered workflows: one package each, named as the workflow is across the tree.

Adding a workflow adds its package here and one entry in ``WORKFLOWS``.
"""

from sagestep_service.platform.registry import Workflow
from sagestep_service.workflows.documents import WORKFLOW as DOCUMENTS
from sagestep_service.workflows.labeling import WORKFLOW as LABELING
from sagestep_service.workflows.training import WORKFLOW as TRAINING
from sagestep_service.workflows.translation import WORKFLOW as TRANSLATION

WORKFLOWS: tuple[Workflow, ...] = (TRAINING, LABELING, TRANSLATION, DOCUMENTS)
