"""Workflow 3, translation: a folder of mixed documents through Amazon Translate batch jobs, one per content type,
the results put back in the folder's structure per language (``statemachines/translation.asl.json``)."""
