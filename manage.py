#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatbot.settings")
    from django.core.management import execute_from_command_line

    from chatbot import startup_errors

    try:
        execute_from_command_line(sys.argv)
    except Exception as error:
        # A setting to fix or a database to start, not a bug: one line, no traceback.
        if (line := startup_errors.one_line(error)) is None:
            raise
        sys.exit(line)


if __name__ == "__main__":
    main()
