"""Workflow 4, documents: PDFs and images through Amazon Textract, segmented into headers and paragraphs, each
paragraph through Amazon Comprehend (``statemachines/documents.asl.json``)."""
