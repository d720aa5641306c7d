"""Content-Security-Policy on every response, with nothing inline allowed; the
room pages add their own socket. The project's templates and scripts keep no
inline script, handler or style that the policy would block."""

import re
from pathlib import Path

from django.conf import settings


ROOT = Path(settings.BASE_DIR)
APPS = ["templates", "telecare", "classrooms", "booking", "signaling", "communes", "static", "config"]


def directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {name: values for name, *values in (part.split() for part in policy.split(";") if part.strip())}


def test_every_response_has_the_policy_without_unsafe_sources(served):
    for name, response in served.items():
        policy = directives(response)
        assert policy["default-src"] == ["'self'"] and policy["script-src"] == ["'self'"], name
        assert policy["style-src"] == ["'self'"] and policy["object-src"] == ["'none'"], name
        assert policy["frame-ancestors"] == ["'none'"] and policy["base-uri"] == ["'none'"], name
        assert "unsafe" not in response["Content-Security-Policy"], name


def test_room_pages_may_open_their_socket_play_streams_and_show_still_pictures(served):
    for name in ("consultation room", "lesson room"):
        policy = directives(served[name])
        assert policy["connect-src"] == ["'self'", "ws://testserver"], name
        assert set(policy["media-src"]) == {"'self'", "blob:"} and set(policy["img-src"]) == {"'self'", "data:", "blob:"}
    assert directives(served["station page"])["connect-src"] == ["'self'"]


def project_files(*suffixes):
    for app in APPS:
        for path in (ROOT / app).rglob("*"):
            if path.suffix in suffixes and ".venv" not in path.parts:
                yield path


def test_templates_have_no_inline_handlers_styles_or_scripts():
    found = []
    for path in project_files(".html"):
        text = path.read_text()
        for pattern in (r"\son[a-z]+\s*=", r"\sstyle\s*=", r"<style\b", r"javascript:"):
            found += [f"{path.relative_to(ROOT)}: {m.group(0)!r}" for m in re.finditer(pattern, text, re.IGNORECASE)]
        # A <script> must load a file; json_script's data blocks are not scripts.
        found += [f"{path.relative_to(ROOT)}: inline <script>" for tag in re.findall(r"<script\b[^>]*>", text)
                  if "src=" not in tag]
    assert found == []


def test_scripts_write_no_markup_with_styles_or_handlers():
    found = []
    for path in project_files(".js"):
        text = path.read_text()
        for pattern in (r"innerHTML|outerHTML|insertAdjacentHTML|document\.write", r"setAttribute\(\s*[\"'](style|on[a-z]+)",
                        r"\beval\(|new Function\(", r"setTimeout\(\s*[\"']"):
            found += [f"{path.relative_to(ROOT)}: {m.group(0)!r}" for m in re.finditer(pattern, text)]
    assert found == []
