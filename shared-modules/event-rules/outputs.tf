output "rule_arns" {
  description = "ARN of each rule by name."
  value       = { for name, rule in aws_cloudwatch_event_rule.this : name => rule.arn }
}

output "event_patterns" {
  description = "The filled-in pattern of each rule by name (what EventBridge matches)."
  value       = { for name, rule in aws_cloudwatch_event_rule.this : name => rule.event_pattern }
}

output "targets_role_arn" {
  description = "ARN of the role EventBridge uses for pipeline and bus targets (null when none)."
  value       = one(aws_iam_role.targets[*].arn)
}

output "dead_letter_queue_arn" {
  description = "ARN of the queue that keeps undeliverable events (null when none)."
  value       = one(aws_sqs_queue.dead_letters[*].arn)
}
