"""EventBridge: the event bus of the local cloud, its router and the router's targets."""
