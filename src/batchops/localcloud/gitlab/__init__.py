"""The GitLab side of the local cloud: the stand-in for the trigger API and the deploy job."""
