"""CloudWatch, where the local cloud needs it to act (moto stores alarms, never evaluates them)."""
