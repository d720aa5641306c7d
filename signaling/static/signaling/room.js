// The consultation room page: one RTCPeerConnection to the server, signalling
// over the room socket (protocol v1, docs/signaling.md; the shared part is in
// connection.js). No build step.

import {RoomConnection} from "./connection.js";

export class Room extends RoomConnection {
  constructor(root, config) {
    super(root, config);
    this.state = {muted: false, camera_off: false, audio_only: false};
    this.others = new Map();
  }

  async start() {
    this.bindControls();
    await this.openMedia();
    await this.listDevices();
    this.connect();
  }

  wantsVideo() {
    return !this.state.audio_only;
  }

  // One transceiver of each kind, sending if we have the track: the server
  // answers with the other side's media on the same ones.
  addTransceivers(pc) {
    const audio = this.stream.getAudioTracks()[0];
    const video = this.state.audio_only ? null : this.stream.getVideoTracks()[0];
    this.audio = pc.addTransceiver(audio || "audio", {direction: "sendrecv", streams: [this.stream]});
    this.video = pc.addTransceiver(video || "video", {direction: "sendrecv", streams: [this.stream]});
  }

  mediaState() {
    return this.state;
  }

  async useAudioOnly() {
    if (this.video) await this.video.sender.replaceTrack(null);
    this.setState({audio_only: true});
  }

  // The server stepped our link to audio only, or back (quality.js): the camera
  // follows, unless the person chose audio only themselves.
  async stepVideo(video) {
    if (this.video && !this.state.audio_only) await this.video.sender.replaceTrack(video ? this.stream.getVideoTracks()[0] || null : null);
  }

  onMessage(message) {
    switch (message.type) {
      case "joined":  // again after a reconnect: whoever left meanwhile is not listed
        this.others.clear();
        for (const p of message.participants) this.others.set(p.id, p);
        this.showRecording(message.recording || {on: false});
        if (message.resumed && this.joins === 1) {  // a reload got our place back, and its state
          for (const key of Object.keys(this.state)) this.state[key] = Boolean(message.you.media[key]);
          this.setState({});
        }
        break;
      case "participant-joined":
        this.others.set(message.participant.id, message.participant);
        break;
      case "participant-left":
        this.others.delete(message.id);
        break;
      case "participant-media":
        if (this.others.has(message.id)) this.others.get(message.id).media = message.media;
        break;
      case "recording":  // a refusal before (no consent) is over: the status shows the call again
        this.lastError = null;
        this.showRecording(message);
        break;
      default:
        return;
    }
    this.showOthers();
  }

  onTrack({track}) {
    const remote = this.el("remote");
    if (!remote.srcObject) remote.srcObject = new MediaStream();
    // A new peer connection's track takes the place of the old one of its kind.
    for (const old of remote.srcObject.getTracks()) if (old.kind === track.kind) remote.srcObject.removeTrack(old);
    remote.srcObject.addTrack(track);
  }

  onConnection(state) {
    if (state === "connected") this.say(this.others.size ? this.t.in_call : this.t.waiting, "success");
  }

  // While the call is recorded, both pages show the badge; only the doctor has the button.
  showRecording({on}) {
    this.recording = on;
    this.el("recording").hidden = !on;
    const button = this.el("record");
    button.hidden = !(this.you && this.you.side === "doctor");
    button.setAttribute("aria-pressed", on);
    button.textContent = on ? this.t.stop_recording : this.t.record;
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

  async useStream() {
    if (this.audio) await this.audio.sender.replaceTrack(this.stream.getAudioTracks()[0] || null);
    if (this.video && !this.state.audio_only && this.quality.video) await this.video.sender.replaceTrack(this.stream.getVideoTracks()[0] || null);
    this.setState({});
  }

  bindControls() {
    this.el("mute").onclick = () => this.setState({muted: !this.state.muted});
    this.el("camera-off").onclick = () => this.setState({camera_off: !this.state.camera_off});
    this.el("audio-only").onclick = async () => {
      const audioOnly = !this.state.audio_only;
      // Stop sending video upstream as well: audio-only is about the link.
      if (this.video) await this.video.sender.replaceTrack(audioOnly || !this.quality.video ? null : this.stream.getVideoTracks()[0] || null);
      this.setState({audio_only: audioOnly});
    };
    this.el("leave").onclick = () => this.leave();
    this.el("record").onclick = () => this.send({type: "record", on: !this.recording});
    this.bindDevices();
  }
}

const root = document.querySelector("[data-room-root]");
if (root) {
  const config = JSON.parse(document.getElementById("room-config").textContent);
  const room = new Room(root, config);
  window.room = room;  // for the people who support a call, and the browser tests
  room.start();
}
