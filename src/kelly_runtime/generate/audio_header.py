"""How many frames an audio file's own header declares, read without decoding.

libsndfile reports the frames it *can* decode: for a WAV or AIFF file cut short it
shrinks the count to what the file still holds, so a truncated file looks whole. These
functions read the count the header itself states (RIFF ``data`` chunk size over the
``fmt`` block alignment; AIFF ``COMM`` frames), so the reader can say how much of the
file was lost. Formats without such a field (OGG, FLAC, MP3) use libsndfile's count,
which comes from their own headers (FLAC ``STREAMINFO``, MP3 Xing/Info).
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO, Final

__all__ = ["declared_frames"]

_MAX_CHUNKS: Final = 1000
"""Chunks walked before the data chunk at most (a header is a handful)."""
_LINEAR_WAV_TAGS: Final = frozenset({1, 3, 6, 7, 0xFFFE})
"""WAVE format tags whose data chunk holds whole frames of ``block_align`` bytes:
PCM, IEEE float, A-law, mu-law, extensible."""
_UNKNOWN_SIZES: Final = frozenset({0, 0xFFFFFFFF})
"""Data sizes that streaming writers leave in the header (length unknown)."""


def _chunks(handle: BinaryIO, endian: str) -> list[tuple[bytes, int, int]]:
    """``(id, size, body offset)`` of the chunks after a 12-byte RIFF/FORM header."""
    found: list[tuple[bytes, int, int]] = []
    position = 12
    for _ in range(_MAX_CHUNKS):
        handle.seek(position)
        head = handle.read(8)
        if len(head) < 8:
            break
        chunk_id = head[:4]
        (size,) = struct.unpack(f"{endian}I", head[4:])
        found.append((chunk_id, size, position + 8))
        if chunk_id in (b"data", b"SSND"):
            break
        position += 8 + size + (size & 1)
    return found


def _wav_frames(handle: BinaryIO, endian: str) -> int | None:
    align = None
    for chunk_id, size, body in _chunks(handle, endian):
        if chunk_id == b"fmt " and size >= 14:
            handle.seek(body)
            fields = handle.read(14)
            if len(fields) == 14:
                tag, _, _, _, align = struct.unpack(f"{endian}HHIIH", fields)
                align = align if tag in _LINEAR_WAV_TAGS else None
        elif chunk_id == b"data":
            if not align or size in _UNKNOWN_SIZES:
                return None
            return int(size) // int(align)
    return None


def _aiff_frames(handle: BinaryIO) -> int | None:
    for chunk_id, size, body in _chunks(handle, ">"):
        if chunk_id == b"COMM" and size >= 6:
            handle.seek(body)
            fields = handle.read(6)
            if len(fields) == 6:
                return int(struct.unpack(">hI", fields)[1])
    return None


def declared_frames(path: Path) -> int | None:
    """Frames the header of the WAV or AIFF file at ``path`` declares, else None.

    None for other formats, for a streaming WAV whose size field is 0 or 0xFFFFFFFF,
    and for compressed WAV codecs (ADPCM: a block holds several frames). Never raises on
    a damaged header: what cannot be read is None.
    """
    try:
        with path.open("rb") as handle:
            magic = handle.read(12)
            if len(magic) < 12:
                return None
            if magic[:4] in (b"RIFF", b"RIFX") and magic[8:12] == b"WAVE":
                return _wav_frames(handle, "<" if magic[:4] == b"RIFF" else ">")
            if magic[:4] == b"FORM" and magic[8:12] in (b"AIFF", b"AIFC"):
                return _aiff_frames(handle)
    except (OSError, struct.error):
        return None
    return None
