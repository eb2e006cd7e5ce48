"""How values cross between a store client and the storekeeper: JSON, with tags for what JSON
has no type for.

Tagged: datetimes and dates, bytes, pandas frames (as Arrow IPC, so a chart's frame keeps its
column types) and pydantic models of this package (rebuilt and validated on the other side; a
class outside ``pipeline`` is refused, so a message can never make the receiver import or build
arbitrary things). Tuples and sets become lists.
"""

from __future__ import annotations

import base64
import importlib
import json
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
from pydantic import BaseModel

__all__ = ["encode", "decode", "CodecError"]


class CodecError(ValueError):
    pass


def _tagged(value: Any) -> Any:
    if isinstance(value, BaseModel):
        kind = type(value)
        return {"$model": f"{kind.__module__}:{kind.__qualname__}", "data": value.model_dump(mode="json")}
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$b64": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, pd.DataFrame):
        return {"$frame": base64.b64encode(_frame_bytes(value)).decode()}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item"):  # numpy scalars from frames
        return value.item()
    raise CodecError(f"cannot send a {type(value).__name__} to or from the store")


def _frame_bytes(frame: pd.DataFrame) -> bytes:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def encode(value: Any) -> bytes:
    return json.dumps(value, default=_tagged, ensure_ascii=False, separators=(",", ":")).encode()


def _model_class(path: str) -> type[BaseModel]:
    module_name, _, qualname = path.partition(":")
    if module_name != "pipeline" and not module_name.startswith("pipeline."):
        raise CodecError(f"refused to build {path}: only this package's models cross the store")
    found: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        found = getattr(found, part)
    if not (isinstance(found, type) and issubclass(found, BaseModel)):
        raise CodecError(f"{path} is not a model")
    return found


def _untag(obj: dict) -> Any:
    if len(obj) == 1:
        ((key, value),) = obj.items()
        if key == "$dt":
            return datetime.fromisoformat(value)
        if key == "$date":
            return date.fromisoformat(value)
        if key == "$b64":
            return base64.b64decode(value)
        if key == "$frame":
            return pa.ipc.open_stream(base64.b64decode(value)).read_all().to_pandas()
    if set(obj) == {"$model", "data"}:
        return _model_class(obj["$model"]).model_validate(obj["data"])
    return obj


def decode(data: bytes | memoryview) -> Any:
    return json.loads(bytes(data), object_hook=_untag)
