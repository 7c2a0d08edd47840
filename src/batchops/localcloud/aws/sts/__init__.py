"""STS: web identity (OIDC) checked as STS checks it."""
