"""Workflows and the API as a user meets them through the local runtime's HTTP API and the Python client.

Where a scenario lives (each scenario runs once, in one place):

- here, when a user gets it by what they ask for and no fault is needed to force a branch of the state
  machine: train, tune either way, train from a tuning job, predict, and the API's own contracts. A test that
  runs a workflow asserts what the user sees and the path it took (states entered, statuses, the one
  notification, the resources left), so that the scenario needs no second run in ``tests/statemachines``;
- in ``tests/statemachines``, when the run has to be forced down a failure or retry path of the ASL (an
  injected fault, a deadline, rejected data, throttling), with the success it starts from (the in-place
  update a failed update rolls back to); those tests assert the user's view of the path as well.
"""
