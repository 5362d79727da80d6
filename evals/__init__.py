"""Evaluation harness: each suite is a module with `run(settings) -> dict`; `tutor eval` runs them."""
