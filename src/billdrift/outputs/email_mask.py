"""Masking emails in text, in Python and in SQL alike.

An email is masked to its first letter, its domain's first letter and its top-level
domain (``jane.doe@example.com`` -> ``j***@e***.com``). Free text has every token
that looks like an email masked so (emails delimit themselves: no number or other
word can be hit). A masked report words many messages in the database
(:mod:`billdrift.outputs.mask_found`), so the same masking is also given as SQL
(RE2's ``regexp_replace``), and tests hold the two to the same text.
"""

from __future__ import annotations

import re

from billdrift.infra.quoting import sql_string

_EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
#: :data:`_EMAIL` with the three things :func:`mask_email` keeps as groups (the first
#: letter of the name and of the domain, the top-level domain), and what replaces it:
#: the same masking in SQL (RE2), for text worded in the database.
_EMAIL_SQL = r"([A-Za-z0-9._%+'-])[A-Za-z0-9._%+'-]*@([A-Za-z0-9.-])[A-Za-z0-9.-]*\.([A-Za-z]{2,})"
_MASKED_SQL = r"\1***@\2***.\3"


def mask_email(email: str) -> str:
    """'jane.doe@example.com' -> 'j***@e***.com'."""
    local, _, domain = email.partition("@")
    name, dot, tld = domain.rpartition(".")
    if not dot:
        name, tld = domain, ""
    return f"{local[:1]}***@{name[:1]}***{dot}{tld}"


def mask_emails_in(text: str) -> str:
    """Every email-looking token of free text masked (emails delimit themselves, so no
    number or other word can be hit)."""
    return _EMAIL.sub(lambda m: mask_email(m.group(0)), text)


def sql_mask_emails(expression: str) -> str:
    """DuckDB SQL giving :func:`mask_emails_in` of the text `expression` gives."""
    return f"regexp_replace({expression}, {sql_string(_EMAIL_SQL)}, {sql_string(_MASKED_SQL)}, 'g')"
