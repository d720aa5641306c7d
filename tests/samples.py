"""Small made-up media bytes the tests store as recordings."""

WEBM = b"\x1aE\xdf\xa3" + bytes(range(256)) * 20  # an EBML header, then filler
