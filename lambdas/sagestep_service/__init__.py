"""Lambda code of sagestep: the shared ``platform`` (API plumbing, job store, waits, safety net, settings) and
one package per workflow under ``workflows`` (routes, task handlers, logic, models, settings)."""
