"""Shared by the benchmark monorepo generators."""

import os


def write_under(root, path, text):
    """Writes root/path, only when its text differs, so that re-running keeps mtimes (and
    every cache keyed on them) stable."""
    path = os.path.join(root, path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    try:
        with open(path) as f:
            if f.read() == text:
                return
    except FileNotFoundError:
        pass
    with open(path, "w") as f:
        f.write(text)
