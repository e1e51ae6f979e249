"""Fuzz campaign: every parser fed generated and mutated inputs through the real CLI.

``make test`` runs a small deterministic sample of each (``BILLDRIFT_FUZZ_EXAMPLES``,
default 100 per parser); ``make fuzz`` runs the full campaign (10,000 per parser,
random seeds). Invariants: :mod:`tests.fuzz.invariants`.
"""
