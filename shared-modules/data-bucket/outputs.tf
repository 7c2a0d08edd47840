output "bucket_name" {
  description = "Name of the bucket."
  value       = aws_s3_bucket.this.id
}

output "bucket_arn" {
  description = "ARN of the bucket."
  value       = aws_s3_bucket.this.arn
}

output "eventbridge_notifications" {
  description = "Whether S3 sends this bucket's events to EventBridge."
  value       = aws_s3_bucket_notification.this.eventbridge
}
