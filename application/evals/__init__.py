"""Evals: run a question set through the current answer pipeline and score it.

- ``running``: ``manage.py eval``'s one use case (cases in, a stored, scored run out);
- ``grading``: the grading agent, when a model is configured;
- ``cases``: eval cases made from questions in the admin.
"""
