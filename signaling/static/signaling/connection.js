// What every room page shares (docs/signaling.md, protocol v1): the room socket,
// one RTCPeerConnection to the server's aiortc peer with trickle ICE, refusals
// and close codes, the microphone and camera, and their pickers. A page extends
// RoomConnection with its transceivers, its messages and its controls. No build step.

export const VERSION = 1;

export class RoomConnection {
  constructor(root, config) {
    this.root = root;
    this.config = config;          // {roomId, labels, video: {width, height}, ...}
    this.t = config.labels;
    this.pc = null;
    this.ws = null;
    this.stream = new MediaStream();
    this.you = null;
    this.lastError = null;
    this.left = false;
    this.audio = null;             // the transceivers that carry our microphone
    this.video = null;             // and camera, set by addTransceivers()
  }

  el(name) {
    return this.root.querySelector(`[data-room="${name}"]`);
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
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    this.ws = new WebSocket(`${scheme}://${location.host}/ws/rooms/${this.config.roomId}/`);
    this.ws.onopen = () => this.send({type: "join"});
    this.ws.onmessage = (event) => this.receive(JSON.parse(event.data));
    this.ws.onclose = (event) => this.onClose(event);
    this.say(this.t.connecting);
  }

  send(message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({v: VERSION, ...message}));
  }

  async receive(message) {
    if (message.type === "joined") this.you = message.you;
    if (message.type === "error") {
      this.lastError = message;
      this.say(message.message, "error");
    }
    await this.onMessage(message);
    if (message.type === "joined") await this.call(message.ice_servers);
    if (message.type === "answer" && this.pc) await this.pc.setRemoteDescription({type: "answer", sdp: message.sdp});
  }

  onClose(event) {
    if (this.left) return;
    const reasons = {4401: this.t.not_logged_in, 4403: this.t.refused, 4404: this.t.no_room, 4429: this.t.too_many};
    const reason = this.lastError ? this.lastError.message : reasons[event.code] || this.t.disconnected;
    this.say(reason, "error");
    this.root.dataset.closeCode = event.code;
    this.hangUp();
  }

  // The peer connection -------------------------------------------------------

  async call(iceServers) {
    this.pc = new RTCPeerConnection({iceServers});
    this.addTransceivers(this.pc);
    this.pc.onicecandidate = ({candidate}) => {
      if (candidate) this.send({type: "ice", candidate: candidate.candidate, sdpMid: candidate.sdpMid, sdpMLineIndex: candidate.sdpMLineIndex});
    };
    this.pc.ontrack = (event) => this.onTrack(event);
    const pc = this.pc;
    pc.onconnectionstatechange = () => {
      const state = pc.connectionState;
      this.root.dataset.connection = state;
      if (state === "failed") this.say(this.t.media_failed, "error");
      this.onConnection(state);
    };
    await pc.setLocalDescription(await pc.createOffer());
    this.send({type: "offer", sdp: pc.localDescription.sdp});
  }

  // Stop everything and say why; a close that follows is expected.
  finish(text, kind = "info") {
    this.left = true;
    this.hangUp();
    if (this.ws) this.ws.close();
    this.say(text, kind);
  }

  leave() {
    this.send({type: "leave"});
    this.finish(this.t.you_left);
  }

  hangUp() {
    if (this.pc) this.pc.close();
    this.pc = null;
    for (const track of this.stream.getTracks()) track.stop();
  }
}

// Plays a received track in an element once media arrives: a media element
// waiting for its first frame holds the page's load event, and the other side
// may not be there yet. `blocked` runs when the browser refuses to autoplay sound.
export function playWhenFlowing(element, track, blocked = () => {}) {
  const start = () => {
    if (!element.srcObject) element.srcObject = new MediaStream();
    if (!element.srcObject.getTracks().includes(track)) element.srcObject.addTrack(track);
    const playing = element.play();
    if (playing) playing.catch((error) => { if (error.name === "NotAllowedError") blocked(); });
  };
  if (track.muted) track.addEventListener("unmute", start, {once: true});
  else start();
}
