"""Negotiating a draft: comments per section, the history of every field, and what
changed since a person last read the SLA (issue 21).

- ``sections``: the document's sections (§1–§11, the appendix) and the wizard step that fills each.
- ``comments``: threads and replies, resolve / reopen, @mentions (mailed by a task).
- ``history``: each saved change of a field as old and new value, kept in the audit
  trail's ``step_saved`` events (hash-chained, so the history is the evidence), and
  read back for the "Verlauf" page.
- ``reading``: per person and SLA the version they last saw, the diff since then, and
  the rule that a signer must have been shown the frozen text before signing.
"""
