"""Dataset schema, validation and the seeded synthetic Abalone-schema generator."""
