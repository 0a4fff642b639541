"""Crates copied into other tools: `mlflow` (one MLflow run per crate)."""
