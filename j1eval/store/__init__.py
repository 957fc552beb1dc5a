"""What a run keeps: the append-only ``judgments.jsonl`` and its resume index, reading it column-wise, and
``pairs.parquet`` (the per-pair table written beside ``results.json``)."""
