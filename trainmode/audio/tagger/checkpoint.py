"""Read TensorFlow 1 checkpoints (the "tensor bundle" format) without TensorFlow.

A checkpoint prefix P has two files that matter here:

* ``P.index`` -- a LevelDB-style SSTable. Keys are variable names; each value is a
  serialized ``BundleEntryProto`` (dtype, shape, shard, offset, size, crc32c).
  The empty key holds a ``BundleHeaderProto`` that we skip.
* ``P.data-00000-of-00001`` -- the raw little-endian tensor bytes.

TensorFlow writes the index uncompressed, so the reader only needs the SSTable
footer, block handles, prefix-compressed block entries and a varint protobuf
decoder. Only what musicnn's checkpoints use is supported (one shard, float32,
no partitioned "slices"); anything else raises ``CheckpointError``.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

TABLE_MAGIC = 0xDB4775248B80FB57  # LevelDB/TF table footer magic
FOOTER_SIZE = 48
BLOCK_TRAILER = 5  # 1 byte compression type + 4 bytes crc
_DTYPES = {1: np.float32, 2: np.float64, 3: np.int32, 9: np.int64}  # TF DataType enum values


class CheckpointError(Exception):
    """The checkpoint files are missing, damaged or use an unsupported feature."""


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    """Decode one base-128 varint; return (value, next position)."""
    value = shift = 0
    while True:
        if pos >= len(buf):
            raise CheckpointError("truncated varint")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def _proto_fields(buf: bytes) -> list[tuple[int, int | bytes]]:
    """Decode a protobuf message into (field number, value) pairs, in order."""
    fields: list[tuple[int, int | bytes]] = []
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            value, pos = int.from_bytes(buf[pos : pos + 8], "little"), pos + 8
        elif wire == 5:
            value, pos = int.from_bytes(buf[pos : pos + 4], "little"), pos + 4
        elif wire == 2:
            length, pos = _varint(buf, pos)
            value, pos = buf[pos : pos + length], pos + length
        else:
            raise CheckpointError(f"unsupported protobuf wire type {wire}")
        fields.append((number, value))
    return fields


def _block_entries(block: bytes) -> list[tuple[bytes, bytes]]:
    """Entries of one SSTable block (keys share prefixes with the previous key)."""
    num_restarts = struct.unpack_from("<I", block, len(block) - 4)[0]
    end = len(block) - 4 - 4 * num_restarts
    entries: list[tuple[bytes, bytes]] = []
    pos, key = 0, b""
    while pos < end:
        shared, pos = _varint(block, pos)
        unshared, pos = _varint(block, pos)
        value_len, pos = _varint(block, pos)
        key = key[:shared] + block[pos : pos + unshared]
        pos += unshared
        entries.append((key, block[pos : pos + value_len]))
        pos += value_len
    return entries


def _read_block(table: bytes, handle: bytes) -> bytes:
    offset, pos = _varint(handle, 0)
    size, _ = _varint(handle, pos)
    if table[offset + size] != 0:  # compression byte: TF writes kNoCompression
        raise CheckpointError("compressed checkpoint index blocks are not supported")
    return table[offset : offset + size]


def read_index(index_path: Path) -> dict[str, dict]:
    """Map variable name -> {"dtype", "shape", "offset", "size"} from a ``.index`` file."""
    table = index_path.read_bytes()
    if len(table) < FOOTER_SIZE or struct.unpack_from("<Q", table, len(table) - 8)[0] != TABLE_MAGIC:
        raise CheckpointError(f"{index_path} is not a TensorFlow checkpoint index")
    footer = table[-FOOTER_SIZE:]
    _, pos = _varint(footer, 0)  # skip the metaindex handle (offset, size)
    _, pos = _varint(footer, pos)
    index_block = _read_block(table, footer[pos:])
    entries: dict[str, dict] = {}
    for _, handle in _block_entries(index_block):
        for key, value in _block_entries(_read_block(table, handle)):
            if key:  # the empty key is the BundleHeaderProto
                entries[key.decode()] = _bundle_entry(value)
    return entries


def _bundle_entry(value: bytes) -> dict:
    entry = {"dtype": 0, "shape": [], "shard": 0, "offset": 0, "size": 0}
    for number, field in _proto_fields(value):
        if number == 1:
            entry["dtype"] = field
        elif number == 2:  # TensorShapeProto: repeated Dim dim = 2 { int64 size = 1 }
            entry["shape"] = [dict(_proto_fields(dim)).get(1, 0) for n, dim in _proto_fields(field) if n == 2]
        elif number in (3, 4, 5):
            entry[("shard", "offset", "size")[number - 3]] = field
        elif number == 7:
            raise CheckpointError("partitioned (sliced) variables are not supported")
    return entry


def read_checkpoint(prefix: Path, skip: str = "Adam") -> dict[str, np.ndarray]:
    """Load the variables of checkpoint ``prefix``, except those whose name contains ``skip``
    (by default the optimizer's slots, which inference does not need).

    ``prefix`` is the path without the ``.index`` suffix, or a folder when the
    stem is empty, as in musicnn's wheel (``MTT_musicnn/.index``).
    """
    prefix = Path(prefix)
    folder, stem = (prefix, "") if prefix.is_dir() else (prefix.parent, prefix.name)
    index_path = folder / f"{stem}.index"
    data_path = folder / f"{stem}.data-00000-of-00001"
    if not index_path.is_file() or not data_path.is_file():
        raise CheckpointError(f"checkpoint files not found at {prefix}(.index|.data-00000-of-00001)")
    entries = read_index(index_path)
    data = data_path.read_bytes()
    out: dict[str, np.ndarray] = {}
    for name, entry in entries.items():
        if skip and skip in name:
            continue
        if entry["shard"] != 0 or entry["dtype"] not in _DTYPES:
            raise CheckpointError(f"{name}: unsupported shard {entry['shard']} or dtype {entry['dtype']}")
        dtype = np.dtype(_DTYPES[entry["dtype"]]).newbyteorder("<")
        raw = data[entry["offset"] : entry["offset"] + entry["size"]]
        out[name] = np.frombuffer(raw, dtype=dtype).astype(dtype.newbyteorder("="))
        out[name] = out[name].reshape(entry["shape"])
    return out
