"""Step Functions in the local mode: moto's ASL interpreter, changed where it differs from AWS.

- :mod:`.interpreter`: the changes to the interpreter (task clients, SendTaskFailure's cause,
  StopExecution, status change events, context object times) and their installation;
- :mod:`.integrations`: the service integrations given to it, one module per integration;
- :mod:`.clients`: the boto3 clients its tasks call services with.
"""
