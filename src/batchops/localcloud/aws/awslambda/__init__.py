"""Lambda, where moto falls short of what the local cloud needs."""
