"""A consultation in Chromium forced through TURN: both pages may only use relayed
candidates (iceTransportPolicy "relay"), the server hands out credentials for a
coturn on loopback (bin/turn, in the same network namespace), and each page
decodes the other's video over a candidate pair whose local candidate is a relay."""

import os
import subprocess
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from signaling.ice import turn_credentials
from telecare.models import Consultation
from tests.e2e.pages import frames_decoded, log_in
from tests.live_server import ARTIFACTS, database_url, free_port, stop, wait_for_http
from tests.turn_fixtures import turn_server  # noqa: F401 (a fixture)

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


@pytest.fixture(scope="module")
def turn_daphne(django_db_setup, turn_server, tmp_path_factory):  # noqa: F811 (the fixture above)
    """daphne (bin/serve) as a child process told about the coturn: STUN_URLS,
    TURN_URLS and TURN_SECRET in its environment, as a deployment sets them."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ, "DATABASE_URL": database_url(connection.settings_dict), "PYTHONUNBUFFERED": "1",
        "PUBLIC_BASE_URL": base_url, "SMS_API_BASE": "http://127.0.0.1:9", "VAR_DIR": str(tmp_path_factory.mktemp("turn-e2e-var")),
        "STUN_URLS": f"stun:{turn_server.host}:{turn_server.port}",
        "TURN_URLS": ",".join(turn_server.urls), "TURN_SECRET": turn_server.secret, "TURN_CREDENTIAL_TTL": "600",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    ARTIFACTS.mkdir(exist_ok=True)
    log = ARTIFACTS / "e2e-turn-daphne.log"
    with log.open("w") as out:
        daphne = subprocess.Popen([str(ARTIFACTS.parent / "bin/serve"), "-b", "127.0.0.1", "-p", str(port)],
                                  cwd=ARTIFACTS.parent, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for_http(f"{base_url}/accounts/login/", daphne, log)
        yield base_url
    finally:
        stop(daphne)


@pytest.fixture
def consultation(doctor, patient, station_worker):
    now = timezone.now()
    return Consultation.objects.create(
        doctor=doctor, patient=patient, station=patient.station, starts_at=now, ends_at=now + timedelta(minutes=20),
        reason="Ho", booked_by=station_worker,
    )


def selected_pair(page, timeout: float = 10) -> dict | None:
    pair = None
    for _ in range(int(timeout / 0.25)):
        pair = page.evaluate(SELECTED_PAIR)
        if pair and pair["state"] == "succeeded":
            return pair
        page.wait_for_timeout(250)
    return pair


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_a_call_forced_through_turn_connects_over_a_relay(turn_daphne, turn_server, new_page, consultation, doctor,  # noqa: F811
                                                          station_worker, transport):
    pages = {}
    for name, user in [("doctor", doctor.user), ("station", station_worker)]:
        page = new_page()
        page.add_init_script(script=f"({FORCE_RELAY})({repr(transport)})")
        log_in(page, turn_daphne, user)
        page.goto(f"{turn_daphne}{consultation.room_url()}")
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


def test_chromium_gets_no_relay_with_an_expired_credential(turn_daphne, turn_server, new_page, monkeypatch):  # noqa: F811
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
