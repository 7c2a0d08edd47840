output "topic_arn" {
  description = "ARN of the topic; the notify and retrain Lambdas read it from BATCHOPS_TOPIC_ARN."
  value       = aws_sns_topic.this.arn
}

output "subscribed_emails" {
  description = "Addresses with a (pending or confirmed) e-mail subscription."
  value       = sort(keys(aws_sns_topic_subscription.email))
}
