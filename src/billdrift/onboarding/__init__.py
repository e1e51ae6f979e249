"""Getting set up: look at the app's data before reading it (``init`` and ``doctor``).

One idea per module: :mod:`.catalog` lists what an app location holds (tables
and columns, or a CSV header), :mod:`.accounts` picks the table that holds the
accounts, :mod:`.secrets` keeps passwords out of anything written or shown,
:mod:`.toml_text` writes a config file, :mod:`.init` puts them together for
``billdrift init`` and :mod:`.summary` describes the result for humans. Nothing
here prints or exits; the CLI does.
"""
