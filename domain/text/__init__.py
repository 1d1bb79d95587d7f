"""Text for Slack and the admin: long messages split, Markdown rendered safely."""
