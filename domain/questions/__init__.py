"""Questions people ask, their answers, feedback, and the Slack events they came in."""
