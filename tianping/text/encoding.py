"""Reading text files whose encoding is UTF-8 or GB18030."""

from __future__ import annotations

from pathlib import Path

from tianping.errors import InvalidInputError


def decode_bytes(data: bytes, source: str = "输入") -> str:
    """Decode UTF-8 (with or without BOM) or GB18030 bytes, rejecting binary data."""
    if b"\x00" in data[:8192]:
        raise InvalidInputError(
            f"{source} 看起来是二进制文件，无法作为文本读取",
            hint="请提供 UTF-8 或 GB18030 编码的纯文本文件",
        )
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InvalidInputError(
        f"{source} 既不是 UTF-8 也不是 GB18030 编码",
        hint="请先转换为 UTF-8，例如 iconv -f 原编码 -t UTF-8",
    )


def read_text(path: str | Path) -> str:
    """Read a text file, detecting UTF-8 or GB18030."""
    file_path = Path(path)
    if not file_path.is_file():
        raise InvalidInputError(f"文件不存在或不是普通文件：{file_path}", hint="请检查路径")
    return decode_bytes(file_path.read_bytes(), source=str(file_path))
