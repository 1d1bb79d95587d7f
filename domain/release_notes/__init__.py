"""Release notes: commits read from git, classified, rendered and stored."""
