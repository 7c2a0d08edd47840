output "schedule_arns" {
  description = "ARN of each schedule by name."
  value       = { for name, s in aws_scheduler_schedule.this : name => s.arn }
}

output "role_arn" {
  description = "ARN of the role the schedules use."
  value       = aws_iam_role.scheduler.arn
}

output "schedule_targets" {
  description = "What each schedule invokes, by name: the pipeline ARN, or the function that starts it."
  value       = { for name, s in aws_scheduler_schedule.this : name => one(s.target).arn }
}
