"""Lambda code of sagestep: thin handlers (``handlers``), the work (``logic``), DynamoDB access (``dal``),
pydantic models (``models``) and typed settings (``settings``)."""
