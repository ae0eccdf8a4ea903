"""The run store: one interface (redline.store.base.Store), several backends.

    store = Store(".redline/redline.db")          # SQLite (the default, zero setup)
    store = Store("postgresql://host/db")         # PostgreSQL (the `postgres` extra)

Modules: records (row encoding, RunInfo), schema (tables and migrations), access (the SQL
primitives and the transaction rule), reads, chain (audit chain appends and verify), queries
(the gate's and reports' aggregations), base (the interface and the writes), writer
(BatchWriter), and one module per backend.
"""

from redline.store.base import Store, backend_name, db_location, describe_location, is_url
from redline.store.records import (
    DEFAULT_DB,
    EVENT_KINDS,
    LINK_COLUMNS,
    RESULT_COLUMNS,
    RESULT_NAMES,
    RUN_FIXED,
    RunInfo,
    dumps,
    dumps_text,
    new_run_id,
    result_row,
    utc_now,
)
from redline.store.schema import MIGRATIONS, SCHEMA, SCHEMA_VERSION
from redline.store.sqlite import SqliteStore
from redline.store.writer import BatchWriter

__all__ = [
    "DEFAULT_DB", "EVENT_KINDS", "LINK_COLUMNS", "MIGRATIONS", "RESULT_COLUMNS", "RESULT_NAMES",
    "RUN_FIXED", "SCHEMA", "SCHEMA_VERSION", "BatchWriter", "RunInfo", "SqliteStore", "Store",
    "backend_name", "db_location", "describe_location", "dumps", "dumps_text", "is_url",
    "new_run_id", "result_row", "utc_now",
]
