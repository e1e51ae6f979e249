"""Reading CSV files: one reader both sides (and ``init``/``doctor``) use.

The app side (:mod:`billdrift.sources.app.csv_file`) and the billing side
(:mod:`billdrift.sources.billing.stripe_csv`) keep only what their columns mean;
everything about the file itself is here, done once, so both read the same
files alike: its encoding (:mod:`.encoding`), header and dialect
(:mod:`.dialect`), line endings (:mod:`.endings`), the read into Arrow text
columns (:mod:`.scan`, Arrow's fast path :mod:`.plain` or DuckDB), rows it could
not split (:mod:`.rejects`), the physical line of every row (:mod:`.lines`), how
messages name the file (:mod:`.naming`) and whether text needs trimming
(:mod:`.padding`).
"""
