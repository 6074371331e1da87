"""The state machines' failure and retry paths, executed in the local runtime (real handlers, real container).

Where a scenario lives (each scenario runs once, in one place):

- here, when the run has to be forced down a failure or retry path of the ASL: a Catch (an injected fault, a
  missed deadline, data the container rejects, an execution stopped by hand) or a Retry (throttling). The
  test asserts the path (states entered, retries, statuses recorded, the one notification, the resources left)
  and what the user sees of it (the job through the API, predictions, refusals). A success the failure path
  starts from is built and asserted here too, not a second time in ``tests/e2e`` (the in-place update that a
  failed update rolls back to);
- in ``tests/e2e``, when a user gets it by what they ask for and no fault is needed (train, tune either way,
  train from a tuning job, predict, the API's own contracts); those tests assert the states entered as well.
"""
