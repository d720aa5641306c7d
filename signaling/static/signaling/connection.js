// What every room page shares (docs/signaling.md, protocol v1): the room socket,
// one RTCPeerConnection to the server's aiortc peer with trickle ICE, refusals
// and close codes, the microphone and camera, and their pickers. A page extends
// RoomConnection with its transceivers, its messages and its controls. No build step.

import {LinkQuality} from "./quality.js";

export const VERSION = 1;

// Reconnecting (docs/signaling.md, "Reconnecting"). A dropped socket is reopened
// after these waits, then every RETRY_EVERY_SECONDS, for config.reconnectSeconds.
const BACKOFF_SECONDS = [0.5, 1, 2, 4];
const RETRY_EVERY_SECONDS = 5;
const SOCKET_OPEN_MS = 8000;        // a socket not open by then is closed and tried again
const DISCONNECTED_MS = 4000;       // a media path "disconnected" this long is started afresh
const CONNECT_MS = 15000;           // a peer connection not connected by then has failed

// Application close codes (4xxx) are refusals: the same socket again would be refused too.
function isRefusal(code) {
  return code >= 4000 && code < 5000;
}

function fill(text, values) {
  return text.replace(/%\((\w+)\)s/g, (_, key) => values[key]);
}

// The TURN servers reached over TCP or TLS: what gets through a network that blocks UDP.
export function tcpTurnServers(iceServers) {
  const overTcp = (url) => url.startsWith("turns:") || (url.startsWith("turn:") && /[?&]transport=tcp(&|$)/i.test(url));
  return iceServers
    .map((server) => ({...server, urls: [].concat(server.urls).filter(overTcp)}))
    .filter((server) => server.urls.length > 0);
}

export class RoomConnection {
  constructor(root, config) {
    this.root = root;
    this.config = config;          // {roomId, labels, video: {width, height}, reconnectSeconds, ...}
    this.t = config.labels;
    this.pc = null;
    this.ws = null;
    this.stream = new MediaStream();
    this.you = null;
    this.lastError = null;
    this.left = false;
    this.audio = null;             // the transceivers that carry our microphone
    this.video = null;             // and camera, set by addTransceivers()
    this.joined = false;           // the socket is open and "joined" came
    this.iceServers = [];          // from the last "joined"
    this.offered = [];             // our peer connections whose offers await an answer, in order
    this.lostSince = null;         // when the socket dropped; null while it is up
    this.retries = 0;
    this.retryTimer = null;
    this.everConnected = false;    // one of our peer connections reached "connected"
    this.failedAttempts = 0;       // peer connections in a row that never connected
    this.recovering = false;       // the media path is being started afresh
    this.relay = false;            // audio only over TURN/TCP, as the person chose
    this.peers = 0;                // RTCPeerConnections made, for the browser tests
    this.joins = 0;                // "joined" messages: the first after a reload may be a resumed place
    this.names = new Map();        // participant id → name, for "… is reconnecting"
    this.reconnecting = new Set();
    this.actions = [];             // the recovery buttons, in the page while offered
    this.addRegions();
    this.quality = new LinkQuality(this);  // the link's grade and the server's steps (quality.js)
  }

  el(name) {
    return this.root.querySelector(`[data-room="${name}"]`);
  }

  // Below the status line: who else is reconnecting (a status region from the
  // start, so that screen readers announce what appears in it), and the buttons
  // that get a lost call back.
  addRegions() {
    const status = this.el("status");
    if (!status) return;
    const peers = document.createElement("div");
    peers.dataset.room = "peers-status";
    peers.setAttribute("role", "status");
    peers.setAttribute("aria-live", "polite");
    const actions = document.createElement("div");
    actions.dataset.room = "recovery";
    const tryAgain = document.createElement("button");
    tryAgain.type = "button";
    tryAgain.dataset.action = "try-again";
    tryAgain.textContent = this.t.try_again;
    tryAgain.onclick = () => this.tryAgain();
    const relay = document.createElement("button");
    relay.type = "button";
    relay.dataset.action = "relay-audio";
    relay.textContent = this.t.relay_audio;
    relay.onclick = () => this.relayAudio();
    this.actions = [tryAgain, relay];
    status.after(peers, actions);
  }

  // Shows the recovery buttons named, and only those (in the page only while
  // offered: app.css gives buttons a display, which `hidden` does not beat).
  offerActions(...names) {
    const actions = this.el("recovery");
    if (actions) actions.replaceChildren(...this.actions.filter((action) => names.includes(action.dataset.action)));
  }

  // The camera's problems stay on screen; the connection's state changes below them.
  warn(text) {
    const notice = this.el("notice");
    notice.textContent = text;
    notice.hidden = false;
  }

  say(text, kind = "info") {
    const status = this.el("status");
    status.textContent = text;
    status.className = `msg ${kind}`;
  }

  // The page's hooks.
  addTransceivers(pc) {}            // in the order docs/signaling.md gives
  onMessage(message) {}             // every server message, before the connection acts on it
  onTrack(event) {}
  onConnection(state) {}
  async useStream() {}              // new devices: put the new tracks on the senders
  wantsVideo() { return true; }     // whether to open the camera
  mediaState() { return null; }     // the page's `media` fields, sent again after a rejoin
  async useAudioOnly() {}           // audio over TURN/TCP: stop video before the new connection
  async stepVideo(video) {}         // the server stepped our link to audio only (false) or back (true)

  // Microphone and camera --------------------------------------------------

  async openMedia({video = this.wantsVideo(), audioId, videoId} = {}) {
    const {width, height} = this.config.video;
    const audio = audioId ? {deviceId: {exact: audioId}} : true;
    const picture = video && {width: {ideal: width}, height: {ideal: height}, deviceId: videoId ? {exact: videoId} : undefined};
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({audio, video: picture});
    } catch (error) {
      const refused = error.name === "NotAllowedError";
      if (video) this.warn(refused ? this.t.camera_refused : this.t.camera_missing);
      else this.warn(refused ? this.t.microphone_refused : this.t.microphone_missing);
      try {  // without the camera, still with the microphone
        this.stream = video ? await navigator.mediaDevices.getUserMedia({audio: true, video: false}) : new MediaStream();
      } catch {
        this.stream = new MediaStream();
      }
    }
    this.showPreview(this.stream);
  }

  // A video element given a stream without video never gets its metadata and
  // holds the page's load event: show the preview only when there is a picture.
  showPreview(stream) {
    const local = this.el("local");
    if (!local) return;
    const hasVideo = stream.getVideoTracks().length > 0;
    local.srcObject = hasVideo ? stream : null;
    local.closest("figure").hidden = !hasVideo;
  }

  async listDevices() {
    const devices = await navigator.mediaDevices.enumerateDevices();
    for (const [kind, select] of [["audioinput", this.el("mic")], ["videoinput", this.el("camera")]]) {
      if (!select) continue;
      select.replaceChildren(...devices.filter((d) => d.kind === kind).map((d, i) => new Option(d.label || `${kind} ${i + 1}`, d.deviceId)));
    }
  }

  bindDevices() {
    const change = async () => {
      for (const track of this.stream.getTracks()) track.stop();
      const camera = this.el("camera");
      await this.openMedia({audioId: this.el("mic").value, videoId: camera ? camera.value : undefined});
      await this.useStream();
    };
    for (const select of [this.el("mic"), this.el("camera")]) if (select) select.onchange = change;
  }

  // The socket ----------------------------------------------------------------

  connect() {
    clearTimeout(this.retryTimer);
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/ws/rooms/${this.config.roomId}/`);
    this.ws = ws;
    const opening = setTimeout(() => ws.close(), SOCKET_OPEN_MS);  // closing a socket still opening fires onclose
    ws.onopen = () => {
      clearTimeout(opening);
      this.send({type: "join", resume: this.placeToken()});
    };
    ws.onmessage = (event) => {
      if (ws === this.ws) this.receive(JSON.parse(event.data));
    };
    ws.onclose = (event) => {
      clearTimeout(opening);
      if (ws === this.ws) this.onClose(event);
    };
    if (this.lostSince === null) this.say(this.t.connecting);
  }

  send(message) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify({v: VERSION, ...message}));
    return true;
  }

  async receive(message) {
    if (message.type === "joined") {
      this.joins += 1;
      this.you = message.you;
      this.lastError = null;
      this.iceServers = message.ice_servers || [];
      this.keepPlace(message.resume);
    }
    if (message.type === "error") {
      this.lastError = message;
      this.say(message.message, "error");
      if (message.code === "bad_sdp" || message.code === "media_error") this.offered.shift();  // that offer gets no answer
    }
    this.notePeers(message);
    this.quality.receive(message);
    await this.onMessage(message);
    if (message.type === "joined") await this.inRoom(message);
    if (message.type === "answer") await this.answered(message.sdp);
  }

  onClose(event) {
    this.joined = false;
    this.offered = [];
    if (this.left) return;
    this.root.dataset.closeCode = event.code;
    if (isRefusal(event.code)) {
      const reasons = {4401: this.t.not_logged_in, 4403: this.t.refused, 4404: this.t.no_room, 4429: this.t.too_many};
      const reason = this.lastError ? this.lastError.message : reasons[event.code] || this.t.disconnected;
      this.say(reason, "error");
      this.forgetPlace();
      this.hangUp();
      return;
    }
    this.socketLost();
  }

  // Reconnecting (docs/signaling.md) -------------------------------------------

  // The server keeps our place for a while after the socket drops: reopen it
  // with backoff and the resume token, while the call's media goes on.
  socketLost() {
    if (this.lostSince === null) {
      this.lostSince = Date.now();
      this.retries = 0;
      this.root.dataset.socket = "reconnecting";
      this.say(this.t.reconnecting);
    }
    if (Date.now() - this.lostSince >= this.config.reconnectSeconds * 1000) {
      this.gaveUp();
      return;
    }
    const wait = BACKOFF_SECONDS[this.retries] ?? RETRY_EVERY_SECONDS;
    this.retries += 1;
    this.retryTimer = setTimeout(() => this.connect(), wait * 1000);
  }

  gaveUp() {
    this.root.dataset.socket = "lost";
    this.closePeer();  // the server has let our place go by now
    this.say(this.t.connection_lost, "error");
    this.offerActions("try-again");
  }

  tryAgain() {
    this.offerActions();
    this.lostSince = null;
    this.connect();
  }

  // In the room, the first time or again: the call goes on if the server kept
  // our place and the media path is alive; otherwise a new peer connection.
  async inRoom({resumed, you}) {
    const wasLost = this.lostSince !== null;
    this.joined = true;
    this.lostSince = null;
    this.retries = 0;
    this.offerActions();
    this.root.dataset.socket = "open";
    this.root.dataset.resumed = resumed;
    if (resumed && this.pc && this.pc.connectionState === "connected") {
      if (wasLost) this.say(this.t.reconnected, "success");
    } else {
      if (wasLost || this.pc) {
        this.recovering = true;
        this.say(this.t.reconnecting_call);
      }
      await this.call();
    }
    // After the offer: the server applies audio-only to the peer that offer made.
    const state = this.mediaState();
    if (state && Object.keys(state).some((key) => Boolean(you.media[key]) !== Boolean(state[key]))) this.send({type: "media", ...state});
  }

  // Kept per room and tab, so that a reload gets the same place back too.
  placeToken() {
    try {
      return sessionStorage.getItem(`room-place:${this.config.roomId}`) || undefined;
    } catch {
      return undefined;  // storage turned off: join afresh
    }
  }

  keepPlace(token) {
    try {
      sessionStorage.setItem(`room-place:${this.config.roomId}`, token);
    } catch {}
  }

  forgetPlace() {
    try {
      sessionStorage.removeItem(`room-place:${this.config.roomId}`);
    } catch {}
  }

  // The others whose socket dropped: "<name> is reconnecting…" until they are back or gone.
  notePeers(message) {
    switch (message.type) {
      case "joined":
        this.reconnecting.clear();
        for (const p of message.participants) this.names.set(p.id, p.name);
        break;
      case "participant-joined":
        this.names.set(message.participant.id, message.participant.name);
        this.reconnecting.delete(message.participant.id);
        break;
      case "participant-left":
        this.reconnecting.delete(message.id);
        break;
      case "participant-reconnecting":
        this.reconnecting.add(message.id);
        break;
      default:
        return;
    }
    const region = this.el("peers-status");
    if (!region) return;
    const text = [...this.reconnecting].map((id) => fill(this.t.other_reconnecting, {name: this.names.get(id) || "?"})).join(" ");
    if (region.textContent === text) return;
    if (!text) {
      region.replaceChildren();
      return;
    }
    const line = document.createElement("p");
    line.className = "msg";
    line.textContent = text;
    region.replaceChildren(line);
  }

  // The peer connection -------------------------------------------------------

  async call(iceServers = this.iceServers) {
    this.closePeer();
    const pc = new RTCPeerConnection(this.relay ? {iceServers: tcpTurnServers(iceServers), iceTransportPolicy: "relay"} : {iceServers});
    this.pc = pc;
    this.peers += 1;
    this.root.dataset.peers = this.peers;
    this.addTransceivers(pc);
    pc.onicecandidate = ({candidate}) => {
      if (candidate && pc === this.pc) this.send({type: "ice", candidate: candidate.candidate, sdpMid: candidate.sdpMid, sdpMLineIndex: candidate.sdpMLineIndex});
    };
    pc.ontrack = (event) => {
      if (pc === this.pc) this.onTrack(event);
    };
    let connected = false;
    let stalled = null;
    const lost = () => this.mediaLost(pc, connected);
    const deadline = setTimeout(lost, CONNECT_MS);
    pc.onconnectionstatechange = () => {
      if (pc !== this.pc) return;
      const state = pc.connectionState;
      this.root.dataset.connection = state;
      this.onConnection(state);
      clearTimeout(stalled);
      if (state === "connected") {
        clearTimeout(deadline);
        connected = true;
        this.mediaBack();
      } else if (state === "disconnected") {
        stalled = setTimeout(lost, DISCONNECTED_MS);  // it may come back by itself
      } else if (state === "failed") {
        lost();
      }
    };
    await pc.setLocalDescription(await pc.createOffer());
    if (pc === this.pc && this.send({type: "offer", sdp: pc.localDescription.sdp})) this.offered.push(pc);
  }

  async answered(sdp) {
    const pc = this.offered.shift();
    if (!pc || pc !== this.pc) return;  // the answer to a connection since replaced
    try {
      await pc.setRemoteDescription({type: "answer", sdp});
    } catch (error) {
      console.warn("the server's answer was refused", error);  // that connection times out and is replaced
    }
  }

  // The media path died, or never came up: a new RTCPeerConnection and a new
  // offer (the server replaces its peer when the ICE credentials change).
  async mediaLost(pc, connected) {
    if (pc !== this.pc || this.left) return;
    this.recovering = true;
    if (!connected) this.failedAttempts += 1;
    if (!this.joined) return;  // the next "joined" starts a new connection
    if (this.failedAttempts >= (this.everConnected ? 2 : 1)) this.cannotGetThrough();
    else this.say(this.t.reconnecting_call);
    await this.call();
  }

  mediaBack() {
    const back = this.recovering;
    this.everConnected = true;
    this.failedAttempts = 0;
    this.recovering = false;
    delete this.root.dataset.media;
    this.offerActions();
    if (back && this.lostSince === null) this.say(this.relay ? this.t.relay_in_call : this.t.call_back, "success");
  }

  // Said plainly; the page keeps trying meanwhile. TURN over TCP or TLS gets
  // through networks that block UDP: offered when the server gave us one.
  cannotGetThrough() {
    const relay = !this.relay && tcpTurnServers(this.iceServers).length > 0;
    this.root.dataset.media = "blocked";
    this.say(relay ? this.t.blocked : this.t.blocked_other_network, "error");
    this.offerActions(...(relay ? ["relay-audio"] : []));
  }

  async relayAudio() {
    this.relay = true;
    this.recovering = true;
    this.failedAttempts = 0;
    this.offerActions();
    await this.useAudioOnly();
    this.say(this.t.relay_connecting);
    if (!this.joined) return;  // the next "joined" starts the relayed connection
    await this.call();
    const state = this.mediaState();
    if (state) this.send({type: "media", ...state});
  }

  // Stop everything and say why; a close that follows is expected.
  finish(text, kind = "info") {
    this.left = true;
    clearTimeout(this.retryTimer);
    this.forgetPlace();
    this.offerActions();
    this.hangUp();
    if (this.ws) this.ws.close();
    this.say(text, kind);
  }

  leave() {
    this.send({type: "leave"});
    this.finish(this.t.you_left);
  }

  closePeer() {
    if (this.pc) this.pc.close();
    this.pc = null;
  }

  hangUp() {
    this.closePeer();
    for (const track of this.stream.getTracks()) track.stop();
  }
}

// Plays a received track in an element once media arrives: a media element
// waiting for its first frame holds the page's load event, and the other side
// may not be there yet. `blocked` runs when the browser refuses to autoplay sound.
// A track from a new peer connection takes the place of the old one of its kind.
export function playWhenFlowing(element, track, blocked = () => {}) {
  const start = () => {
    if (!element.srcObject) element.srcObject = new MediaStream();
    const stream = element.srcObject;
    for (const old of stream.getTracks()) if (old.kind === track.kind && old !== track) stream.removeTrack(old);
    if (!stream.getTracks().includes(track)) stream.addTrack(track);
    const playing = element.play();
    if (playing) playing.catch((error) => { if (error.name === "NotAllowedError") blocked(); });
  };
  if (track.muted) track.addEventListener("unmute", start, {once: true});
  else start();
}
