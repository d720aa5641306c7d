// The lesson room page (docs/signaling.md, "Lesson rooms"): the teacher's page
// and the pupil's page, on the shared room connection of connection.js. No build step.

import {RoomConnection, playWhenFlowing} from "./connection.js";

const MAX_CHAT_LINES = 200;

function fill(text, values) {
  return text.replace(/%\((\w+)\)s/g, (_, key) => values[key]);
}

// A status region stays in the page (so that screen readers announce what
// appears in it); the message inside it comes and goes.
function tell(region, text, className = "msg") {
  if (!text) return region.replaceChildren();
  const message = document.createElement("p");
  message.className = className;
  message.textContent = text;
  region.replaceChildren(message);
}

function button(text, action) {
  const element = document.createElement("button");
  element.type = "button";
  element.dataset.action = action;
  element.textContent = text;
  return element;
}

export class Lesson extends RoomConnection {
  constructor(root, config) {
    super(root, config);
    this.role = config.role;            // "teacher" or "pupil"
    this.lesson = {state: "waiting", floor: null, hands: new Set(), recording: false};
    this.people = new Map();            // participant id → {id, name, side, media}
    this.lowData = false;
    this.audioOnly = false;             // audio over TURN/TCP (connection.js)
    this.handUp = false;                // a pupil's own hand (the server echoes it only to the others)
    this.screen = null;                 // the teacher's shared screen
    this.teacherVideo = null;           // a pupil's recvonly transceivers
    this.floorAudio = null;
  }

  async start() {
    this.bindControls();
    await this.openMedia();
    await this.listDevices();
    this.useMicrophone();
    this.connect();
    this.render();
  }

  wantsVideo() {
    return this.role === "teacher";
  }

  get isTeacher() {
    return this.role === "teacher";
  }

  get hasFloor() {
    return Boolean(this.you) && this.lesson.floor === this.you.id;
  }

  // In the order and directions of docs/signaling.md: the teacher sends and
  // receives audio and video; a pupil sends audio (heard only with the floor),
  // receives the teacher's picture, and the floor pupil's voice on a second audio.
  addTransceivers(pc) {
    const microphone = this.stream.getAudioTracks()[0];
    this.audio = pc.addTransceiver(microphone || "audio", {direction: "sendrecv", streams: [this.stream]});
    if (this.isTeacher) {
      const picture = this.screen ? this.screen.getVideoTracks()[0] : this.audioOnly ? null : this.stream.getVideoTracks()[0];
      this.video = pc.addTransceiver(picture || "video", {direction: "sendrecv", streams: [this.stream]});
    } else {
      this.teacherVideo = pc.addTransceiver("video", {direction: "recvonly"});
      this.floorAudio = pc.addTransceiver("audio", {direction: "recvonly"});
    }
  }

  onTrack({transceiver, track}) {
    let sink = null;
    if (transceiver === this.audio) sink = this.el(this.isTeacher ? "floor-audio" : "teacher-audio");
    else if (transceiver === this.floorAudio) sink = this.el("floor-audio");
    else if (transceiver === this.teacherVideo) sink = this.el("teacher-video");
    if (sink) playWhenFlowing(sink, track, () => { this.el("sound").hidden = false; });
  }

  onConnection(state) {
    if (state === "connected") this.say(this.t.connected, "success");
  }

  // For the people who support a lesson, and the browser tests: what one of our
  // receivers gets ("picture": the teacher's video, "voice": the teacher's
  // voice, "floor": the voice of the pupil who has the floor).
  async inbound(name) {
    const transceiver = {picture: this.teacherVideo, voice: this.isTeacher ? null : this.audio, floor: this.isTeacher ? this.audio : this.floorAudio}[name];
    if (!transceiver || !this.pc) return null;
    const stats = await transceiver.receiver.getStats();
    for (const report of stats.values()) if (report.type === "inbound-rtp") return report;
    return null;
  }

  // Messages ---------------------------------------------------------------

  onMessage(message) {
    const lesson = this.lesson;
    switch (message.type) {
      case "joined":  // again after a reconnect: whoever left meanwhile is not listed
        this.people.clear();
        for (const p of message.participants) this.people.set(p.id, p);
        if (message.lesson) {
          Object.assign(lesson, {state: message.lesson.state, floor: message.lesson.floor, recording: message.lesson.recording});
          lesson.hands = new Set(message.lesson.hands);
        }
        this.rejoined(message);
        break;
      case "participant-joined":
        this.people.set(message.participant.id, message.participant);
        break;
      case "participant-left":
        this.people.delete(message.id);
        lesson.hands.delete(message.id);
        if (lesson.floor === message.id) lesson.floor = null;
        break;
      case "participant-media":
        if (this.people.has(message.id)) this.people.get(message.id).media = message.media;
        break;
      case "lesson":
        lesson.state = message.state;
        lesson.recording = Boolean(message.recording);
        if (message.state === "ended") this.ended();
        break;
      case "hand":
        if (message.raised) lesson.hands.add(message.id);
        else lesson.hands.delete(message.id);
        break;
      case "floor":
        lesson.floor = message.id;
        if (message.id) lesson.hands.delete(message.id);
        if (this.hasFloor) this.handUp = false;  // the server lowered it too
        if (this.hasFloor) tell(this.el("muted-note"), "");  // given the floor again
        break;
      case "muted-by-teacher":
        if (!this.isTeacher) tell(this.el("muted-note"), this.t.muted_by_teacher);
        break;
      case "chat":
        this.addChat(message);
        return;
      case "still":
        this.showStill(message);
        return;
      default:
        return;
    }
    this.render();
  }

  // A reload that got our place back takes the hand and low-data mode kept with
  // it; a page that was only cut off tells the server what changed meanwhile
  // (connection.js sends the media state; the hand goes here).
  rejoined({resumed, you}) {
    if (this.isTeacher) return;
    if (resumed && this.joins === 1) {
      this.handUp = Boolean(you.hand);
      this.setLowData(Boolean(you.media.low_data));
    }
    if (this.hasFloor) this.handUp = false;
    else if (this.lesson.state === "live" && Boolean(you.hand) !== this.handUp) this.send({type: "hand", raised: this.handUp});
  }

  mediaState() {
    return {low_data: this.lowData, audio_only: this.audioOnly};
  }

  // Over TURN/TCP a pupil gets the still pictures of low-data mode instead of video.
  async useAudioOnly() {
    this.audioOnly = true;
    if (this.isTeacher && this.video) await this.video.sender.replaceTrack(null);
    if (!this.isTeacher) this.setLowData(true);
    this.render();
  }

  setLowData(on) {
    this.lowData = on;
    this.el("low-data").setAttribute("aria-pressed", on);
  }

  // The server stepped a pupil's link to sound and still pictures, or back
  // (quality.js); it does not step the teacher's.
  async stepVideo(video) {
    this.render();
  }

  ended() {
    this.lesson.floor = null;
    this.finish(this.t.lesson_ended, "success");
    for (const control of this.root.querySelectorAll("button, input, select")) control.disabled = true;
  }

  addChat({name, text, at}) {
    const list = this.el("chat");
    const line = document.createElement("li");
    const who = document.createElement("strong");
    who.textContent = name;
    const when = document.createElement("time");
    when.dateTime = at;
    when.textContent = new Date(at).toLocaleTimeString(document.documentElement.lang, {hour: "2-digit", minute: "2-digit"});
    line.append(who, " ", when, " ", document.createTextNode(text));
    list.append(line);
    while (list.children.length > MAX_CHAT_LINES) list.firstElementChild.remove();
    list.scrollTop = list.scrollHeight;
  }

  showStill({jpeg, at}) {
    if (!this.lowData && this.quality.video) return;
    this.el("still").src = `data:image/jpeg;base64,${jpeg}`;
    this.el("still-time").textContent = fill(this.t.still_time, {
      time: new Date(at).toLocaleTimeString(document.documentElement.lang, {hour: "2-digit", minute: "2-digit", second: "2-digit"}),
    });
  }

  // What the page shows ------------------------------------------------------

  render() {
    const {state, floor, hands, recording} = this.lesson;
    this.root.dataset.lessonState = state;
    this.el("recording").hidden = !recording || state !== "live";
    const waiting = this.isTeacher ? this.t.lesson_waiting_teacher : this.t.lesson_waiting_pupil;
    this.el("lesson-status").textContent = {waiting, live: this.t.lesson_live, ended: this.t.lesson_ended}[state] || "";
    const floorName = floor && this.people.has(floor) ? this.people.get(floor).name : null;
    const floorText = this.hasFloor ? this.t.floor_you : floorName ? fill(this.t.floor_other, {name: floorName}) : floor ? this.t.floor_someone : "";
    const floorStatus = this.el("floor-status");
    if (floorStatus.textContent !== floorText) tell(floorStatus, floorText, this.hasFloor ? "msg floor you" : "msg floor");
    this.root.dataset.floor = floor || "";
    if (this.isTeacher) this.renderTeacher();
    else this.renderPupil();
    this.useMicrophone();
  }

  renderTeacher() {
    const {state, floor, hands} = this.lesson;
    const live = state === "live";
    this.el("start").hidden = state !== "waiting";
    this.el("end").hidden = !live;
    const pupils = [...this.people.values()].filter((p) => p.side === "pupil");
    this.el("present").textContent = pupils.length ? fill(this.t.present, {count: pupils.length}) : this.t.no_pupils;
    const raised = pupils.filter((p) => hands.has(p.id)).map((p) => p.name);
    this.el("hands").textContent = raised.length ? fill(this.t.hands, {names: raised.join(", ")}) : "";

    // Updated in place, so a button the teacher just used keeps the focus.
    const list = this.el("pupils");
    const items = new Map([...list.children].map((li) => [li.dataset.pupil, li]));
    for (const pupil of pupils) {
      let li = items.get(pupil.id);
      if (!li) {
        li = document.createElement("li");
        li.dataset.pupil = pupil.id;
        li.setAttribute("role", "group");
        const name = document.createElement("span");
        name.className = "name";
        name.id = `pupil-${pupil.id}`;
        const flags = document.createElement("span");
        flags.className = "flags muted";
        const give = button(this.t.give_floor, "floor");
        give.onclick = () => this.send({type: "floor", id: this.lesson.floor === pupil.id ? null : pupil.id});
        const mute = button(this.t.mute_pupil, "mute");
        mute.className = "secondary";
        mute.onclick = () => this.send({type: "mute", id: pupil.id});
        li.setAttribute("aria-labelledby", name.id);
        li.append(name, flags, give, mute);
      }
      const hasFloor = floor === pupil.id;
      const flags = [hands.has(pupil.id) && this.t.hand_raised, hasFloor && this.t.has_floor, pupil.media && pupil.media.low_data && this.t.low_data_on];
      li.querySelector(".name").textContent = pupil.name;
      li.querySelector(".flags").textContent = flags.filter(Boolean).join(" · ");
      li.classList.toggle("hand", hands.has(pupil.id));
      li.classList.toggle("floor", hasFloor);
      const give = li.querySelector("[data-action=floor]");
      give.textContent = hasFloor ? this.t.take_floor : this.t.give_floor;
      give.disabled = !live;
      li.querySelector("[data-action=mute]").disabled = !live;
      list.append(li);  // moves it into the pupils' order
      items.delete(pupil.id);
    }
    for (const gone of items.values()) gone.remove();
  }

  renderPupil() {
    const live = this.lesson.state === "live";
    const raised = this.handUp;
    const hand = this.el("hand");
    hand.disabled = !live || this.hasFloor;
    hand.setAttribute("aria-pressed", raised);
    hand.textContent = raised ? this.t.lower_hand : this.t.raise_hand;
    const stills = this.lowData || !this.quality.video;
    this.el("picture").hidden = stills;
    this.el("still-figure").hidden = !stills;
  }

  // A pupil's microphone counts only while they have the floor.
  useMicrophone() {
    const on = this.isTeacher || this.hasFloor;
    for (const track of this.stream.getAudioTracks()) track.enabled = on;
    this.root.dataset.microphone = on ? "on" : "off";
  }

  async useStream() {
    if (this.audio) await this.audio.sender.replaceTrack(this.stream.getAudioTracks()[0] || null);
    if (this.video && !this.screen && !this.audioOnly) await this.video.sender.replaceTrack(this.stream.getVideoTracks()[0] || null);
    if (this.screen) this.showPreview(this.screen);
    this.useMicrophone();
  }

  // Controls -----------------------------------------------------------------

  bindControls() {
    this.bindDevices();
    this.el("leave").onclick = () => this.leave();
    this.el("sound").onclick = () => {
      for (const media of this.root.querySelectorAll("audio")) if (media.srcObject) media.play().catch(() => {});
      this.el("sound").hidden = true;
    };
    this.el("chat-form").onsubmit = (event) => {
      event.preventDefault();
      const input = this.el("chat-text");
      const text = input.value.trim();
      if (!text) return;
      this.send({type: "chat", text: text.slice(0, 500)});
      input.value = "";
    };
    if (this.isTeacher) {
      this.el("start").onclick = () => this.send({type: "start"});
      this.el("end").onclick = () => {
        if (window.confirm(this.t.end_confirm)) this.send({type: "end"});
      };
      const share = this.el("share");
      if (navigator.mediaDevices && navigator.mediaDevices.getDisplayMedia) share.onclick = () => (this.screen ? this.stopSharing() : this.shareScreen());
      else share.hidden = true;  // phones cannot share their screen
    } else {
      // The others hear of it from the server; our own page keeps its own hand.
      this.el("hand").onclick = () => {
        if (!this.you) return;
        this.handUp = !this.handUp;
        this.send({type: "hand", raised: this.handUp});
        this.render();
      };
      this.el("low-data").onclick = () => {
        this.setLowData(!this.lowData);
        this.send({type: "media", ...this.mediaState()});
        this.render();
      };
    }
  }

  // The screen replaces the camera on the same sender: no renegotiation.
  async shareScreen() {
    try {
      this.screen = await navigator.mediaDevices.getDisplayMedia({video: {frameRate: {max: 10}, width: {max: 1280}, height: {max: 720}}, audio: false});
    } catch {
      this.warn(this.t.screen_refused);
      return;
    }
    const track = this.screen.getVideoTracks()[0];
    track.contentHint = "detail";
    track.onended = () => this.stopSharing();  // the browser's own "Stop sharing" button
    if (this.video) await this.video.sender.replaceTrack(track);
    this.showPreview(this.screen);
    this.el("share").setAttribute("aria-pressed", true);
    this.el("share").textContent = this.t.stop_share;
  }

  async stopSharing() {
    if (!this.screen) return;
    for (const track of this.screen.getTracks()) track.stop();
    this.screen = null;
    if (this.video) await this.video.sender.replaceTrack(this.stream.getVideoTracks()[0] || null);
    this.showPreview(this.stream);
    this.el("share").setAttribute("aria-pressed", false);
    this.el("share").textContent = this.t.share;
  }

  hangUp() {
    super.hangUp();
    if (this.screen) for (const track of this.screen.getTracks()) track.stop();
    this.screen = null;
  }
}

const root = document.querySelector("[data-lesson-root]");
if (root) {
  const config = JSON.parse(document.getElementById("lesson-config").textContent);
  const lesson = new Lesson(root, config);
  window.lesson = lesson;  // for the people who support a lesson, and the browser tests
  lesson.start();
}
