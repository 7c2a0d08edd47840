"""S3: EventBridge notifications as S3 sends them; cross-account access by bucket policy."""
