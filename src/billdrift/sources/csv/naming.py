"""How messages name a CSV file and the setting that fixes its encoding.

Both sides read CSV files through this package, so a problem met on one side is
worded as on the other: messages name the file (``app file users.csv``,
``billing file exports/subs.csv``) and, for text that does not decode, the
setting to change (``app.encoding``, ``billing.encoding``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Naming:
    """One side's CSV file, as its messages name it."""

    #: ``"app"`` or ``"billing"``: messages say "app file ...", the setting is ``app.encoding``.
    side: str
    #: The file as messages show it: its name (app) or the location given (billing).
    shown: str
    #: The encoding as configured.
    encoding: str = "utf-8"

    @property
    def file(self) -> str:
        """``app file users.csv``: how a sentence names the file."""
        return f"{self.side} file {self.shown}"

    @property
    def name(self) -> str:
        """The file's short name, as notes and ``source_ref`` show it."""
        return Path(self.shown).name or self.shown

    @property
    def setting(self) -> str:
        return f"{self.side}.encoding"

    def undecodable(self, detail: str, what: str = "", encoding: str = "") -> str:
        """The message for text the configured encoding cannot decode: `detail` says
        where, `what` names the text (the file unless given), `encoding` the
        encoding it was read in (the configured one unless given)."""
        return (
            f"{what or self.file} is not valid {encoding or self.encoding} text ({detail}). "
            "If it was saved by Excel or another tool in a legacy encoding, set "
            f'{self.setting} = "latin-1" (or the file\'s real encoding) in the config file'
        )

    def undecodable_header(self, codec: str) -> str:
        """The message for a header row `codec` cannot decode."""
        return self.undecodable("line 1", f"the header of {self.shown}", codec.upper())
