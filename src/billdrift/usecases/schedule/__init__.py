"""Running the check again and again: a GitHub Actions workflow, a crontab line, or
``billdrift watch`` in the foreground."""
