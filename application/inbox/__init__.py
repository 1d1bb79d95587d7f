"""Slack events in: accepted durably while Slack waits, then handled by a job.

- ``accepting``: the inbox row and its job, in one transaction, for each event (the ack);
- ``handling``: what a stored event starts, the greeting or an answer (the job);
- ``greeting``: the one-time greeting in a new assistant-pane thread.
"""
