"""Small readers of Dagster's in-process results shared by the test modules that run assets."""
from __future__ import annotations

import dagster as dg


def materialization_metadata(result, key: dg.AssetKey) -> dict:
    """{name: plain value} of the materialisation of ``key`` in an in-process result (KeyError if none)."""
    for event in result.get_asset_materialization_events():
        if event.asset_key == key:
            return {k: v.value for k, v in event.event_specific_data.materialization.metadata.items()}
    raise KeyError(key)
