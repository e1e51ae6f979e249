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

    def undecodable(self, detail: str) -> str:
        """The message for a file the configured encoding cannot decode; `detail` says where."""
        return (
            f"{self.file} is not valid {self.encoding} text ({detail}). If it was saved by "
            f'Excel or another tool in a legacy encoding, set {self.setting} = "latin-1" '
            "(or the file's real encoding) in the config file"
        )

    def undecodable_header(self, codec: str) -> str:
        """The message for a header row `codec` cannot decode."""
        return (
            f"the header of {self.shown} is not valid {codec.upper()} text; set "
            f'`{self.setting}` to the file\'s encoding (e.g. "latin-1" or "cp1252")'
        )
