"""Test helpers that live once: Pilot waiting and screen reading (`support.textual`),
the small deterministic stores the explorer tests build (`support.shell_store`,
`support.timeline_stores`) and the hostile strings they carry (`support.hostile`).

Import them as `from support.textual import settle`: tests/ is on sys.path because
tests/conftest.py lives there (pytest's default "prepend" import mode).
"""
