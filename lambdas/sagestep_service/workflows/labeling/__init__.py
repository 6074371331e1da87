"""Workflow 2, labeling (in progress): hierarchical batches of labeling jobs (``POST /batch/create``), levels run one
after another, several workers' answers consolidated. Not registered yet: its pure parts (request models and
validation, consolidation) land first, the state machine, construct and local labeling jobs next."""
