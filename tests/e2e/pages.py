"""What the browser tests do to and read from a page: log in, and count the
video frames a call's page has decoded."""

import time

from tests.conftest import PASSWORD

INBOUND_VIDEO = """async () => {
  if (!window.room || !window.room.pc) return null;
  const stats = await window.room.pc.getStats();
  let frames = null;
  stats.forEach((r) => { if (r.type === "inbound-rtp" && r.kind === "video") frames = r.framesDecoded; });
  return frames;
}"""


def log_in(page, base_url, user):
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("form.card button[type=submit]")
    assert "/accounts/login/" not in page.url, f"{user.username} could not log in"


def frames_decoded(page, at_least: int, timeout: float = 20) -> int:
    deadline = time.monotonic() + timeout
    frames = None
    while time.monotonic() < deadline:
        frames = page.evaluate(INBOUND_VIDEO)
        if frames is not None and frames >= at_least:
            return frames
        time.sleep(0.25)
    return frames or 0
