"""The default population registry: a local SQLite table of synthetic citizens (a stand-in).

The national population database cannot be reached from here. This stand-in keeps a ``citizen`` table in
its own file (``MOTCUA_VAR_DIR/registry.db``; not the engine's database, which only the engine touches),
seeded on first use with the :class:`~workers.registry.SyntheticRegistry`'s few thousand valid
citizens, so operators can look at it, add people for a demonstration, and run lookups as real queries.
"""
from __future__ import annotations

import sqlite3
import threading
from dataclasses import fields
from pathlib import Path

from workers.registry import Profile, SyntheticRegistry

COLUMNS = [f.name for f in fields(Profile)]


class TableRegistry:
    """A registry backed by a ``citizen`` table in a SQLite file, seeded with synthetic citizens."""

    def __init__(self, path: Path, size: int = 3000, seed: int = 2026):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        with self._connect() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS citizen (citizen_id TEXT PRIMARY KEY, full_name TEXT NOT NULL, "
                         "birth_date TEXT NOT NULL, sex TEXT NOT NULL, province_of_birth TEXT NOT NULL, "
                         "permanent_address TEXT NOT NULL)")
            if conn.execute("SELECT count(*) FROM citizen").fetchone()[0] == 0:
                people = SyntheticRegistry(size, seed)
                conn.executemany(f"INSERT OR IGNORE INTO citizen ({', '.join(COLUMNS)}) VALUES "
                                 f"({', '.join('?' for _ in COLUMNS)})",
                                 [tuple(people.lookup(n).to_variables()[c] for c in COLUMNS) for n in people.numbers()])

    def _connect(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = sqlite3.connect(self.path, timeout=30)
        return conn

    def lookup(self, number: str) -> Profile | None:
        """The citizen with this number, if the table has one."""
        row = self._connect().execute(f"SELECT {', '.join(COLUMNS)} FROM citizen WHERE citizen_id = ?",
                                      (number,)).fetchone()
        return Profile(*row) if row else None

    def add(self, profile: Profile) -> None:
        """Add or replace a citizen (for demonstrations)."""
        with self._connect() as conn:
            conn.execute(f"INSERT OR REPLACE INTO citizen ({', '.join(COLUMNS)}) VALUES "
                         f"({', '.join('?' for _ in COLUMNS)})", tuple(profile.to_variables()[c] for c in COLUMNS))

    def count(self) -> int:
        """How many citizens the table holds."""
        return self._connect().execute("SELECT count(*) FROM citizen").fetchone()[0]

    def close(self) -> None:
        """Close this thread's connection."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
