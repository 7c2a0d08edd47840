"""IAM: how the local cloud decides whether a principal may do something."""
