"""What the browser tests do to and read from a page: log in, count the video
frames a call's page has decoded, read a lesson page's receivers and a call's
selected candidate pair."""

import re
import time

from tests.conftest import PASSWORD

INBOUND_VIDEO = """async () => {
  if (!window.room || !window.room.pc) return null;
  const stats = await window.room.pc.getStats();
  let frames = null;
  stats.forEach((r) => { if (r.type === "inbound-rtp" && r.kind === "video") frames = r.framesDecoded; });
  return frames;
}"""

# What one receiver of the page gets (lesson.js: "picture", "voice" or "floor").
INBOUND = """async (name) => {
  if (!window.lesson || !window.lesson.pc) return null;
  const r = await window.lesson.inbound(name);
  return r && {frames: r.framesDecoded ?? 0, width: r.frameWidth ?? 0, packets: r.packetsReceived ?? 0, samples: r.totalSamplesReceived ?? 0,
               level: r.audioLevel ?? 0, energy: r.totalAudioEnergy ?? 0};
}"""
SELECTED_PAIR = """async () => {
  const stats = await window.room.pc.getStats();
  let pair = null;
  stats.forEach((r) => { if (r.type === "transport" && r.selectedCandidatePairId) pair = stats.get(r.selectedCandidatePairId); });
  if (!pair) return null;
  const local = stats.get(pair.localCandidateId), remote = stats.get(pair.remoteCandidateId);
  const candidates = [];
  stats.forEach((r) => { if (r.type === "local-candidate") candidates.push(r.candidateType); });
  return {state: pair.state, local: local.candidateType, relayProtocol: local.relayProtocol, address: local.address,
          remote: remote.candidateType, localTypes: candidates};
}"""

JPEG_DATA_URL = re.compile(r"^data:image/jpeg;base64,/9j/")  # a JPEG starts FF D8 FF


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

def inbound(page, name: str) -> dict:
    return page.evaluate(INBOUND, name) or {"frames": 0, "width": 0, "packets": 0, "samples": 0, "level": 0, "energy": 0}
