"""The room protocol (docs/signaling.md): JSON messages with a `type` and the
protocol version `v`. Parsing validates everything a client sends; anything
wrong becomes a ProtocolError with a code the page can show."""

import json
import re
import unicodedata
from dataclasses import asdict, dataclass

from aiortc.sdp import SessionDescription

VERSION = 1
MAX_MESSAGE_BYTES = 64 * 1024  # an SDP offer with every codec is about 10 kB
MAX_CANDIDATE_CHARS = 1024
# Our pages nest three levels deep; json.loads recurses once per level and a deep
# enough message raises RecursionError, which is no ValueError.
MAX_JSON_DEPTH = 8
# The pages offer audio, video and the presenter's screen: three m-lines. Each one
# costs the server a transceiver, and the answer grows by one section per line.
MAX_MEDIA_SECTIONS = 8
STRING_LITERAL = re.compile(r'"(?:[^"\\]|\\.)*"')
# Control characters (an SDP keeps its CR LF line breaks), and the bidi
# overrides that make a chat line read as something else.
FORBIDDEN_IN_TEXT = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
FORBIDDEN_IN_SDP = re.compile("[\x00-\x09\x0b\x0c\x0e-\x1f\x7f]")


class ProtocolError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Join:
    resume: str | None = None  # the token of a place kept after a dropped socket
    type = "join"


@dataclass(frozen=True)
class Leave:
    type = "leave"


@dataclass(frozen=True)
class Description:
    """An offer or an answer."""

    type: str
    sdp: str


@dataclass(frozen=True)
class Candidate:
    candidate: str
    sdp_mid: str | None
    sdp_mline_index: int | None
    type = "ice"


@dataclass(frozen=True)
class MediaState:
    muted: bool = False
    camera_off: bool = False
    audio_only: bool = False
    low_data: bool = False  # broadcast rooms: no video, a still picture every few seconds
    type = "media"


@dataclass(frozen=True)
class Record:
    """Call rooms: the controlling side (the doctor) starts (on) or stops recording the call."""

    on: bool
    type = "record"


# Broadcast rooms (docs/signaling.md, "Lesson rooms").
MAX_CHAT_CHARS = 500


@dataclass(frozen=True)
class Start:
    type = "start"


@dataclass(frozen=True)
class End:
    type = "end"


@dataclass(frozen=True)
class Hand:
    raised: bool
    type = "hand"


@dataclass(frozen=True)
class Floor:
    id: str | None
    type = "floor"


@dataclass(frozen=True)
class Mute:
    id: str
    type = "mute"


@dataclass(frozen=True)
class Chat:
    text: str
    type = "chat"


def json_depth(raw: str) -> int:
    """How deeply the JSON text nests, counted without parsing it (brackets inside strings do not count)."""
    if raw.count("[") + raw.count("{") <= MAX_JSON_DEPTH:
        return 0  # cannot be too deep: most messages stop here
    depth = deepest = 0
    for ch in STRING_LITERAL.sub("", raw):
        if ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def clean_text(value: str, key: str, *, forbidden=FORBIDDEN_IN_TEXT) -> str:
    """Text as it may reach the others: encodable UTF-8 (a lone surrogate from a
    "\\ud800" escape is not), without control characters, in NFC."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ProtocolError("bad_field", f"'{key}' is not valid Unicode text") from None
    if forbidden.search(value):
        raise ProtocolError("bad_field", f"'{key}' contains control characters")
    return unicodedata.normalize("NFC", value)


def _require(data: dict, key: str, kind, *, optional=False):
    value = data.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, kind) or isinstance(value, bool) and kind is int:
        raise ProtocolError("bad_field", f"'{key}' must be a {kind.__name__}")
    if kind is str:
        value = clean_text(value, key, forbidden=FORBIDDEN_IN_SDP if key == "sdp" else FORBIDDEN_IN_TEXT)
    return value


def _parse_sdp(sdp: str) -> str:
    try:
        parsed = SessionDescription.parse(sdp)
    except Exception:  # aiortc raises ValueError, IndexError, KeyError... on bad SDP
        raise ProtocolError("bad_sdp", "the SDP does not parse") from None
    if not parsed.media:
        raise ProtocolError("bad_sdp", "the SDP has no media")
    if len(parsed.media) > MAX_MEDIA_SECTIONS:
        raise ProtocolError("bad_sdp", f"an offer has at most {MAX_MEDIA_SECTIONS} media sections")
    return sdp


def parse(raw: str | bytes | None):
    if raw is None:
        raise ProtocolError("bad_message", "send JSON text messages")
    if len(raw) > MAX_MESSAGE_BYTES:
        raise ProtocolError("too_large", f"messages are limited to {MAX_MESSAGE_BYTES} bytes")
    if json_depth(raw) > MAX_JSON_DEPTH:
        raise ProtocolError("bad_json", f"messages nest at most {MAX_JSON_DEPTH} levels deep")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ProtocolError("bad_json", "the message is not JSON") from None
    if not isinstance(data, dict):
        raise ProtocolError("bad_message", "a message is a JSON object")
    if data.get("v") != VERSION:
        raise ProtocolError("bad_version", f"this server speaks protocol version {VERSION}")
    kind = data.get("type")
    if kind == "join":
        resume = _require(data, "resume", str, optional=True)
        if resume is not None and len(resume) > 64:
            raise ProtocolError("bad_field", "'resume' is too long")
        return Join(resume)
    if kind == "leave":
        return Leave()
    if kind == "offer":
        return Description("offer", _parse_sdp(_require(data, "sdp", str)))
    if kind == "ice":
        candidate = _require(data, "candidate", str)
        if len(candidate) > MAX_CANDIDATE_CHARS:
            raise ProtocolError("bad_field", "the ICE candidate is too long")
        index = _require(data, "sdpMLineIndex", int, optional=True)
        if index is not None and not 0 <= index < 16:
            raise ProtocolError("bad_field", "'sdpMLineIndex' is out of range")
        return Candidate(candidate, _require(data, "sdpMid", str, optional=True), index)
    if kind == "media":
        return MediaState(**{key: bool(data.get(key, False)) for key in ("muted", "camera_off", "audio_only", "low_data")})
    if kind == "record":
        return Record(_require(data, "on", bool))
    if kind == "start":
        return Start()
    if kind == "end":
        return End()
    if kind == "hand":
        return Hand(_require(data, "raised", bool))
    if kind == "floor":
        return Floor(_require(data, "id", str, optional=True))
    if kind == "mute":
        return Mute(_require(data, "id", str))
    if kind == "chat":
        text = _require(data, "text", str).strip()  # NFC already: the length counts what people see
        if not 1 <= len(text) <= MAX_CHAT_CHARS:
            raise ProtocolError("bad_field", f"a chat message has 1 to {MAX_CHAT_CHARS} characters")
        return Chat(text)
    raise ProtocolError("unknown_type", f"unknown message type {kind!r}")


def dump(kind: str, **fields) -> str:
    """A server message as JSON text."""
    return json.dumps({"v": VERSION, "type": kind, **fields}, ensure_ascii=False)


def error(code: str, message: str) -> str:
    return dump("error", code=code, message=message)


def state_dict(state: MediaState) -> dict:
    return asdict(state)
