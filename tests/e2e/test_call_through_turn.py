"""A consultation in Chromium forced through TURN: both pages may only use relayed
candidates (iceTransportPolicy "relay"), the server hands out credentials for a
coturn on loopback (bin/turn, in the same network namespace), and each page
decodes the other's video over a candidate pair whose local candidate is a relay."""

from datetime import timedelta

import pytest
from django.utils import timezone

from signaling.ice import turn_credentials
from tests.e2e.pages import SELECTED_PAIR, frames_decoded, log_in
from tests.live_server import ARTIFACTS

pytestmark = pytest.mark.django_db(transaction=True)

# Every RTCPeerConnection the page makes may use relayed candidates only; with
# `only`, the TURN URLs are narrowed to that transport (as when UDP is blocked).
FORCE_RELAY = """(only) => {
  const Native = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends Native {
    constructor(config = {}, ...rest) {
      window.iceServersGiven = config.iceServers;
      let iceServers = config.iceServers || [];
      if (only) iceServers = iceServers.map((s) => ({...s, urls: [].concat(s.urls).filter((u) => u.startsWith("turn:") && u.endsWith("transport=" + only))}))
        .filter((s) => s.urls.length);
      super({...config, iceServers, iceTransportPolicy: "relay"}, ...rest);
    }
  };
}"""





def selected_pair(page, timeout: float = 10) -> dict | None:
    pair = None
    for _ in range(int(timeout / 0.25)):
        pair = page.evaluate(SELECTED_PAIR)
        if pair and pair["state"] == "succeeded":
            return pair
        page.wait_for_timeout(250)
    return pair


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_a_call_forced_through_turn_connects_over_a_relay(turn_daphne, turn_server, new_page, live_consultation, doctor,
                                                          station_worker, transport):
    pages = {}
    for name, user in [("doctor", doctor.user), ("station", station_worker)]:
        page = new_page()
        page.add_init_script(script=f"({FORCE_RELAY})({repr(transport)})")
        log_in(page, turn_daphne, user)
        page.goto(f"{turn_daphne}{live_consultation.room_url()}")
        pages[name] = page
    for name, page in pages.items():
        first = frames_decoded(page, 10)
        assert first >= 10, f"{name} decoded {first} frames through TURN/{transport}"
        assert frames_decoded(page, first + 15) > first, f"{name}'s decoded frames stopped growing at {first}"
        given = page.evaluate("window.iceServersGiven")
        turn = next(s for s in given if "username" in s)
        assert turn["urls"] == turn_server.urls and turn["username"].endswith(f"-{page.evaluate('window.room.you.id')}")
        pair = selected_pair(page)
        assert pair and pair["local"] == "relay", f"{name}: {pair}"
        assert pair["relayProtocol"] == transport and set(pair["localTypes"]) == {"relay"}, f"{name}: {pair}"
    for name, page in pages.items():
        page.screenshot(path=ARTIFACTS / f"e2e-turn-{transport}-{name}.png", full_page=True)


GATHER_RELAYS = """async (iceServers) => {
  const pc = new RTCPeerConnection({iceServers, iceTransportPolicy: "relay"});
  const relays = [], errors = [];
  pc.onicecandidateerror = (e) => errors.push(e.errorCode);
  const done = new Promise((resolve) => {
    pc.onicegatheringstatechange = () => { if (pc.iceGatheringState === "complete") resolve(); };
  });
  pc.onicecandidate = ({candidate}) => { if (candidate && candidate.type === "relay") relays.push(candidate.protocol); };
  pc.createDataChannel("probe");
  await pc.setLocalDescription(await pc.createOffer());
  await Promise.race([done, new Promise((resolve) => setTimeout(resolve, 8000))]);
  pc.close();
  return {relays, errors};
}"""


def test_chromium_gets_no_relay_with_an_expired_credential(turn_daphne, turn_server, new_page, monkeypatch):
    page = new_page()
    page.goto(f"{turn_daphne}/accounts/login/")
    urls = [turn_server.url("udp"), turn_server.url("tcp")]
    fresh = turn_credentials("7-a1b2c3", secret=turn_server.secret, ttl=600)
    real_now = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: real_now - timedelta(hours=2))
    expired = turn_credentials("7-a1b2c3", secret=turn_server.secret, ttl=3600)
    outcome = {
        name: page.evaluate(GATHER_RELAYS, [{"urls": urls, "username": username, "credential": credential}])
        for name, (username, credential) in [("fresh", fresh), ("expired", expired)]
    }
    # A relay for each TURN URL (UDP and TCP to coturn, each relaying UDP); none, and 401s, once expired.
    assert outcome["fresh"]["relays"] and set(outcome["fresh"]["relays"]) == {"udp"} and not outcome["fresh"]["errors"], outcome
    assert outcome["expired"]["relays"] == [] and set(outcome["expired"]["errors"]) == {401}, outcome
