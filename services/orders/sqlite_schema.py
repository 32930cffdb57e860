"""The orders database: orders, the event log, idempotency keys and the saga log."""

from __future__ import annotations

SCHEMA = (
    """
    CREATE TABLE orders (
        order_id TEXT PRIMARY KEY,
        customer_id TEXT NOT NULL,
        state TEXT NOT NULL,
        total_minor INTEGER NOT NULL,
        currency TEXT NOT NULL,
        charge_id TEXT NOT NULL DEFAULT '',
        failure_step TEXT NOT NULL DEFAULT '',
        failure_reason TEXT NOT NULL DEFAULT '',
        failure_message TEXT NOT NULL DEFAULT '',
        create_time TEXT NOT NULL,
        update_time TEXT NOT NULL
    )
    """,
    """
    CREATE TABLE order_lines (
        order_id TEXT NOT NULL REFERENCES orders (order_id),
        line_index INTEGER NOT NULL,
        sku TEXT NOT NULL,
        name TEXT NOT NULL,
        quantity INTEGER NOT NULL,
        total_minor INTEGER NOT NULL,
        currency TEXT NOT NULL,
        reservation_key TEXT NOT NULL,
        PRIMARY KEY (order_id, line_index)
    )
    """,
    # AUTOINCREMENT keeps sequences strictly increasing; written in the transaction of the
    # change it describes, a rolled-back change leaves no gap.
    """
    CREATE TABLE order_events (
        sequence INTEGER PRIMARY KEY AUTOINCREMENT,
        order_id TEXT NOT NULL REFERENCES orders (order_id),
        type TEXT NOT NULL,
        detail TEXT NOT NULL,
        create_time TEXT NOT NULL
    )
    """,
    "CREATE INDEX order_events_by_order ON order_events (order_id, sequence)",
    """
    CREATE TABLE idempotency_keys (
        idempotency_key TEXT PRIMARY KEY,
        fingerprint TEXT NOT NULL,
        order_id TEXT NOT NULL UNIQUE REFERENCES orders (order_id)
    )
    """,
    # One row per order: where its saga is, and the error replayed to retries once failed.
    """
    CREATE TABLE sagas (
        order_id TEXT PRIMARY KEY REFERENCES orders (order_id),
        status TEXT NOT NULL,
        step TEXT NOT NULL,
        error TEXT NOT NULL DEFAULT '',
        cancel_reason TEXT NOT NULL DEFAULT ''
    )
    """,
    "CREATE INDEX sagas_unfinished ON sagas (status) WHERE status != 'DONE'",
    # Downstream effects to undo, in the order they were made; compensation walks them
    # backwards and marks each one as soon as it is undone.
    """
    CREATE TABLE saga_effects (
        effect_id INTEGER PRIMARY KEY AUTOINCREMENT,
        order_id TEXT NOT NULL REFERENCES orders (order_id),
        kind TEXT NOT NULL,
        target TEXT NOT NULL,
        sku TEXT NOT NULL,
        state TEXT NOT NULL,
        UNIQUE (order_id, kind, target)
    )
    """,
)
