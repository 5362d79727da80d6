"""The learner model: placement, plan, mastery (BKT), review scheduling (FSRS)."""
