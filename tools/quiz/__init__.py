"""Checkpoint quizzes: the item bank, item selection and grading (multiple choice, short answer, code)."""
