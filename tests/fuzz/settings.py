"""How many inputs each parser gets: a sample in ``make test``, thousands in ``make fuzz``.

``BILLDRIFT_FUZZ_EXAMPLES`` is the number of inputs per parser (default 100, ``make
fuzz`` sets 10000); a parser fuzzed by several tests (generated, planted, mutated)
shares them out with :func:`share`.
"""

from __future__ import annotations

import math
import os

from hypothesis import HealthCheck, settings

#: Inputs per parser; ``make fuzz`` sets 10000.
PER_PARSER = int(os.environ.get("BILLDRIFT_FUZZ_EXAMPLES", "100"))


def share(tests: int) -> settings:
    """Settings for one of `tests` tests fuzzing the same parser. The sample is
    derandomized so ``make test`` is repeatable; the campaign explores."""
    return settings(
        max_examples=math.ceil(PER_PARSER / tests),
        deadline=None,
        derandomize=PER_PARSER <= 1000,
        database=None,
        print_blob=True,
        suppress_health_check=list(HealthCheck),
    )
