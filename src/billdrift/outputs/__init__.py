"""What consumes a Report: renderers (one per ``--format``), alert sinks and masking."""
