output "schedule_arns" {
  description = "ARN of each schedule by name."
  value       = { for name, s in aws_scheduler_schedule.this : name => s.arn }
}

output "role_arn" {
  description = "ARN of the role the schedules use."
  value       = aws_iam_role.scheduler.arn
}
