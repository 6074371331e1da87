"""Pydantic models shared by the API, the state-machine tasks and the Python client."""
