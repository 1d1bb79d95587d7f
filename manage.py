#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatbot.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    from chatbot import environment

    try:
        execute_from_command_line(sys.argv)
    except (ImproperlyConfigured, environment.InvalidSetting) as error:
        # A setting to fix, not a bug: one line that says what to set, no traceback.
        sys.exit(f"chatbot: {error}")


if __name__ == "__main__":
    main()
