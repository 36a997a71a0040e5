"""Chinese legal text utilities: numerals, encodings."""

from tianping.text.encoding import decode_bytes, read_text
from tianping.text.numerals import cn_to_int, int_to_cn, parse_number

__all__ = ["cn_to_int", "int_to_cn", "parse_number", "decode_bytes", "read_text"]
