// The room page: one RTCPeerConnection to the server, signalling over the room
// socket (protocol v1, docs/signaling.md). No build step.

const VERSION = 1;

export class Room {
  constructor(root, config) {
    this.root = root;
    this.config = config;          // {roomId, labels, video: {width, height}}
    this.t = config.labels;
    this.state = {muted: false, camera_off: false, audio_only: false};
    this.others = new Map();
    this.pc = null;
    this.ws = null;
    this.stream = null;
    this.lastError = null;
    this.left = false;
    this.el = (name) => root.querySelector(`[data-room="${name}"]`);
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

  async start() {
    this.bindControls();
    await this.openMedia();
    await this.listDevices();
    this.connect();
  }

  async openMedia({audioId, videoId} = {}) {
    const {width, height} = this.config.video;
    const video = this.state.audio_only ? false : {width: {ideal: width}, height: {ideal: height}, deviceId: videoId ? {exact: videoId} : undefined};
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({audio: audioId ? {deviceId: {exact: audioId}} : true, video});
    } catch (error) {
      this.warn(error.name === "NotAllowedError" ? this.t.camera_refused : this.t.camera_missing);
      try {  // without the camera, still with the microphone
        this.stream = await navigator.mediaDevices.getUserMedia({audio: true, video: false});
      } catch {
        this.stream = new MediaStream();
      }
    }
    // A video element given a stream without video never gets its metadata and
    // holds the page's load event: show the preview only when there is a picture.
    const local = this.el("local");
    const hasVideo = this.stream.getVideoTracks().length > 0;
    local.srcObject = hasVideo ? this.stream : null;
    local.closest("figure").hidden = !hasVideo;
  }

  async listDevices() {
    const devices = await navigator.mediaDevices.enumerateDevices();
    for (const [kind, select] of [["audioinput", this.el("mic")], ["videoinput", this.el("camera")]]) {
      select.replaceChildren(...devices.filter((d) => d.kind === kind).map((d, i) => new Option(d.label || `${kind} ${i + 1}`, d.deviceId)));
    }
  }

  connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    this.ws = new WebSocket(`${scheme}://${location.host}/ws/rooms/${this.config.roomId}/`);
    this.ws.onopen = () => this.send({type: "join"});
    this.ws.onmessage = (event) => this.onMessage(JSON.parse(event.data));
    this.ws.onclose = (event) => this.onClose(event);
    this.say(this.t.connecting);
  }

  send(message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({v: VERSION, ...message}));
  }

  async onMessage(message) {
    switch (message.type) {
      case "joined":
        for (const p of message.participants) this.others.set(p.id, p);
        this.showOthers();
        await this.call(message.ice_servers);
        break;
      case "answer":
        await this.pc.setRemoteDescription({type: "answer", sdp: message.sdp});
        break;
      case "participant-joined":
        this.others.set(message.participant.id, message.participant);
        this.showOthers();
        break;
      case "participant-left":
        this.others.delete(message.id);
        this.showOthers();
        break;
      case "participant-media":
        if (this.others.has(message.id)) this.others.get(message.id).media = message.media;
        this.showOthers();
        break;
      case "error":
        this.lastError = message;
        this.say(message.message, "error");
        break;
    }
  }

  onClose(event) {
    if (this.left) return;
    const reasons = {4401: this.t.not_logged_in, 4403: this.t.refused, 4404: this.t.no_room, 4429: this.t.too_many};
    const reason = this.lastError ? this.lastError.message : reasons[event.code] || this.t.disconnected;
    this.say(reason, "error");
    this.root.dataset.closeCode = event.code;
    this.hangUp();
  }

  async call(iceServers) {
    this.pc = new RTCPeerConnection({iceServers});
    const audio = this.stream.getAudioTracks()[0];
    const video = this.state.audio_only ? null : this.stream.getVideoTracks()[0];
    // One transceiver of each kind, sending if we have the track: the server
    // answers with the other side's media on the same ones.
    this.audio = this.pc.addTransceiver(audio || "audio", {direction: "sendrecv", streams: [this.stream]});
    this.video = this.pc.addTransceiver(video || "video", {direction: "sendrecv", streams: [this.stream]});
    this.pc.onicecandidate = ({candidate}) => {
      if (candidate) this.send({type: "ice", candidate: candidate.candidate, sdpMid: candidate.sdpMid, sdpMLineIndex: candidate.sdpMLineIndex});
    };
    this.pc.ontrack = ({track}) => {
      const remote = this.el("remote");
      if (!remote.srcObject) remote.srcObject = new MediaStream();
      remote.srcObject.addTrack(track);
    };
    this.pc.onconnectionstatechange = () => {
      const state = this.pc.connectionState;
      this.root.dataset.connection = state;
      if (state === "connected") this.say(this.others.size ? this.t.in_call : this.t.waiting, "success");
      if (state === "failed") this.say(this.t.media_failed, "error");
    };
    await this.pc.setLocalDescription(await this.pc.createOffer());
    this.send({type: "offer", sdp: this.pc.localDescription.sdp});
    if (this.state.muted || this.state.camera_off) this.send({type: "media", ...this.state});
  }

  showOthers() {
    const names = [...this.others.values()].map((p) => {
      const flags = [p.media.muted && this.t.muted, p.media.camera_off && this.t.camera_is_off, p.media.audio_only && this.t.audio_only].filter(Boolean);
      return flags.length ? `${p.name} (${flags.join(", ")})` : p.name;
    });
    this.el("others").textContent = names.length ? names.join(" · ") : this.t.nobody_yet;
    if (this.pc && this.pc.connectionState === "connected") this.say(names.length ? this.t.in_call : this.t.waiting, "success");
  }

  setState(change) {
    Object.assign(this.state, change);
    for (const track of this.stream.getAudioTracks()) track.enabled = !this.state.muted;
    for (const track of this.stream.getVideoTracks()) track.enabled = !this.state.camera_off;
    this.el("mute").setAttribute("aria-pressed", this.state.muted);
    this.el("camera-off").setAttribute("aria-pressed", this.state.camera_off);
    this.el("audio-only").setAttribute("aria-pressed", this.state.audio_only);
    this.el("remote").hidden = this.state.audio_only;
    this.send({type: "media", ...this.state});
  }

  bindControls() {
    this.el("mute").onclick = () => this.setState({muted: !this.state.muted});
    this.el("camera-off").onclick = () => this.setState({camera_off: !this.state.camera_off});
    this.el("audio-only").onclick = async () => {
      const audioOnly = !this.state.audio_only;
      // Stop sending video upstream as well: audio-only is about the link.
      if (this.video) await this.video.sender.replaceTrack(audioOnly ? null : this.stream.getVideoTracks()[0] || null);
      this.setState({audio_only: audioOnly});
    };
    this.el("leave").onclick = () => this.leave();
    const change = async () => {
      for (const track of this.stream.getTracks()) track.stop();
      await this.openMedia({audioId: this.el("mic").value, videoId: this.el("camera").value});
      if (this.audio) await this.audio.sender.replaceTrack(this.stream.getAudioTracks()[0] || null);
      if (this.video && !this.state.audio_only) await this.video.sender.replaceTrack(this.stream.getVideoTracks()[0] || null);
      this.setState({});
    };
    this.el("mic").onchange = change;
    this.el("camera").onchange = change;
  }

  leave() {
    this.left = true;
    this.send({type: "leave"});
    this.hangUp();
    if (this.ws) this.ws.close();
    this.say(this.t.you_left);
  }

  hangUp() {
    if (this.pc) this.pc.close();
    this.pc = null;
    for (const track of this.stream ? this.stream.getTracks() : []) track.stop();
  }
}

const root = document.querySelector("[data-room-root]");
if (root) {
  const config = JSON.parse(document.getElementById("room-config").textContent);
  const room = new Room(root, config);
  window.room = room;  // for the people who support a call, and the browser tests
  room.start();
}
