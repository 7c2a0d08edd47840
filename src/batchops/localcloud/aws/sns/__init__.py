"""SNS: the outbox that records what an e-mail subscription would receive."""
