"""One module per AWS service, each declaring its `SERVICE`: the handlers of the resource types it
emulates, the types it deliberately skips (with the reason) and its naming rules."""
