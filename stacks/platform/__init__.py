"""What every workflow shares: storage, job store, notifications, Lambda plumbing, event-driven waits, the API,
the safety net for abandoned executions and monitoring. One construct per capability."""
