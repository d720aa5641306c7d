// Weak links on a room page (docs/signaling.md, "Weak links"): a grade of this
// page's link from getStats() every two seconds, and what the server says when
// it steps the media down or back up, for us (`quality`) and for the others
// (`participant-quality`). When the server takes us to audio only, our camera
// stops too, as with the audio-only button; its step back brings it back
// (the page's stepVideo hook). No build step.

const SAMPLE_MS = 2000;
const OTHER_RECOVERED_MS = 15000;  // "<name>'s connection recovered" stays this long

// A link worse than FAIR on any count is "fair", worse than POOR "poor" (loss
// as the server counts it: it steps down at 10%; seconds; bits per second).
const FAIR = {loss: 0.03, rtt: 0.25, jitter: 0.03, outgoing: 150_000};
const POOR = {loss: 0.10, rtt: 0.5, jitter: 0.08, outgoing: 60_000};
const GRADES = ["good", "fair", "poor"];
// The server steps down only on a weak link: its level caps the grade shown.
const LEVEL_GRADE = {high: "good", medium: "fair", low: "fair", audio: "poor"};

function fill(text, values) {
  return text.replace(/%\((\w+)\)s/g, (_, key) => values[key]);
}

function clock() {
  return new Date().toLocaleTimeString(document.documentElement.lang || undefined, {hour: "2-digit", minute: "2-digit"});
}

// One look at the stats: what arrived and was lost so far (the loss is over
// the time since `previous`), the worst loss the server reports on what we
// send, the selected candidate pair's round trip and outgoing estimate, and
// the jitter of what we hear.
export function measure(stats, previous) {
  let received = 0, lost = 0, upLoss = null, audioJitter = null, videoJitter = null, pair = null;
  stats.forEach((report) => {
    if (report.type === "inbound-rtp") {
      received += report.packetsReceived || 0;
      lost += Math.max(0, report.packetsLost || 0);
      if (report.jitter !== undefined && report.kind === "audio") audioJitter = Math.max(audioJitter ?? 0, report.jitter);
      if (report.jitter !== undefined && report.kind === "video") videoJitter = Math.max(videoJitter ?? 0, report.jitter);
    } else if (report.type === "remote-inbound-rtp" && report.fractionLost !== undefined) {
      upLoss = Math.max(upLoss ?? 0, report.fractionLost);
    } else if (report.type === "transport" && report.selectedCandidatePairId) {
      pair = stats.get(report.selectedCandidatePairId);
    }
  });
  let downLoss = null;
  if (previous) {
    const arrived = received - previous.received, missing = Math.max(0, lost - previous.lost);
    if (arrived + missing > 0) downLoss = missing / (arrived + missing);
  }
  const losses = [downLoss, upLoss].filter((x) => x !== null);
  return {
    received, lost,
    loss: losses.length ? Math.max(...losses) : null,
    rtt: pair && pair.currentRoundTripTime !== undefined ? pair.currentRoundTripTime : null,
    outgoing: pair && pair.availableOutgoingBitrate !== undefined ? pair.availableOutgoingBitrate : null,
    jitter: audioJitter ?? videoJitter,  // the voice's, when there is one
  };
}

export function grade({loss, rtt, jitter, outgoing}, sendsVideo) {
  const over = (limit) => (loss ?? 0) >= limit.loss || (rtt ?? 0) >= limit.rtt || (jitter ?? 0) >= limit.jitter
    || (sendsVideo && outgoing !== null && outgoing < limit.outgoing);  // an audio sender's estimate stays low
  return over(POOR) ? "poor" : over(FAIR) ? "fair" : "good";
}

export class LinkQuality {
  constructor(connection) {
    this.connection = connection;
    this.t = connection.t;
    this.video = true;             // the server sends us video and takes ours (false: stepped to audio only)
    this.level = null;             // the server's last `quality` for us
    this.grade = null;             // what the indicator shows: good, fair or poor
    this.measured = null;          // the last measure()
    this.received = [];            // every quality and participant-quality message, for support and the browser tests
    this.people = new Map();       // participant id → {name, side}
    this.others = new Map();       // participant id → their note
    this.pc = null;
    this.previous = null;
    this.better = 0;               // samples in a row better than the grade shown
    this.addRegion();
    this.timer = setInterval(() => this.sample(), SAMPLE_MS);
  }

  el(name) {
    return this.connection.el(name);
  }

  // Below the status line: the grade (with bars) in a status region, the
  // figures beside it (not announced: they change every sample), and the
  // server's steps for us and the others in a second status region.
  addRegion() {
    const status = this.el("status");
    if (!status || this.el("quality")) return;
    const style = document.createElement("link");
    style.rel = "stylesheet";
    style.href = new URL("./quality.css", import.meta.url).href;
    document.head.append(style);
    const region = document.createElement("div");
    region.dataset.room = "quality";
    region.className = "link-quality";
    region.hidden = true;
    const level = document.createElement("p");
    level.dataset.room = "quality-level";
    level.setAttribute("role", "status");
    level.setAttribute("aria-live", "polite");
    const bars = document.createElement("span");
    bars.className = "bars";
    bars.setAttribute("aria-hidden", "true");
    bars.append(...[1, 2, 3].map(() => document.createElement("i")));
    const label = document.createElement("span");
    label.dataset.room = "quality-label";
    level.append(bars, label);
    const details = document.createElement("small");
    details.dataset.room = "quality-details";
    details.className = "muted";
    const notes = document.createElement("div");
    notes.dataset.room = "quality-notes";
    notes.className = "notes";
    notes.setAttribute("role", "status");
    notes.setAttribute("aria-live", "polite");
    const own = document.createElement("p");
    own.dataset.room = "quality-note";
    own.hidden = true;
    const others = document.createElement("p");
    others.dataset.room = "quality-others";
    others.className = "msg";
    others.hidden = true;
    notes.append(own, others);
    region.append(level, details, notes);
    status.after(region);
  }

  // Messages (connection.js hands over every one) ----------------------------

  receive(message) {
    switch (message.type) {
      case "joined":
        this.people.clear();
        for (const p of [message.you, ...message.participants]) this.people.set(p.id, {name: p.name, side: p.side});
        for (const id of this.others.keys()) if (!this.people.has(id)) this.others.delete(id);
        break;
      case "participant-joined":
        this.people.set(message.participant.id, {name: message.participant.name, side: message.participant.side});
        break;
      case "participant-left":
        this.people.delete(message.id);
        this.others.delete(message.id);
        break;
      case "quality":
        this.received.push({...message, at: Date.now()});
        this.stepped(message);
        return;
      case "participant-quality":
        this.received.push({...message, at: Date.now()});
        this.otherStepped(message.id, message.quality);
        break;
      default:
        return;
    }
    this.renderOthers();
  }

  // The server stepped what it sends us: say when and why; the camera follows.
  async stepped(quality) {
    const hadVideo = this.video;
    this.level = quality;
    this.video = quality.video;
    const values = {time: clock(), why: this.why(quality.reason), width: quality.width, height: quality.height};
    let text, kind = "msg error";
    if (!quality.video) {
      // A pupil of a lesson gets the still pictures of low-data mode.
      text = this.connection.config.role === "pupil" ? this.t.quality_stills : this.t.quality_audio_only;
    } else if (quality.reason !== "recovered") {
      text = this.t.quality_smaller;
    } else {
      kind = "msg success";
      text = hadVideo ? this.t.quality_bigger : this.t.quality_video_back;
    }
    const note = this.el("quality-note");
    note.textContent = fill(text, values);
    note.className = kind;
    note.hidden = false;
    this.connection.root.dataset.linkLevel = quality.level;
    this.show(this.grade);
    if (hadVideo !== quality.video) await this.follow(quality.video);
  }

  async follow(video) {
    try {
      await this.connection.stepVideo(video);
    } catch (error) {
      console.warn("the camera could not follow the server's step", error);  // a peer connection closed meanwhile
    }
  }

  why(reason) {
    return {loss: this.t.quality_because_loss, bandwidth: this.t.quality_because_bandwidth}[reason] || "";
  }

  otherStepped(id, quality) {
    const person = this.people.get(id);
    // A pupil's page has no use for the other pupils' links.
    if (this.connection.config.role === "pupil" && (!person || person.side !== "teacher")) return;
    const name = person ? person.name : "?";
    clearTimeout((this.others.get(id) || {}).timer);
    let text;
    if (!quality.video) text = fill(this.connection.config.role === "teacher" ? this.t.quality_other_stills : this.t.quality_other_audio_only, {name});
    else if (quality.reason !== "recovered") text = fill(this.t.quality_other_smaller, {name});
    else text = fill(this.t.quality_other_recovered, {name});
    const note = {text, level: quality.level, timer: null};
    if (quality.level === "high") {
      note.timer = setTimeout(() => {
        if (this.others.get(id) === note) this.others.delete(id);
        this.renderOthers();
      }, OTHER_RECOVERED_MS);
    }
    this.others.set(id, note);
  }

  renderOthers() {
    const line = this.el("quality-others");
    if (!line) return;
    const text = [...this.others.values()].map((note) => note.text).join(" · ");
    if (line.textContent !== text) line.textContent = text;
    line.hidden = !text;
    // Their picture stands still meanwhile: the page's style dims it.
    const root = this.connection.root;
    if ([...this.others.values()].some((note) => note.level === "audio")) root.dataset.othersAudioOnly = "";
    else delete root.dataset.othersAudioOnly;
  }

  // The indicator --------------------------------------------------------------

  async sample() {
    const connection = this.connection;
    if (connection.left) {
      clearInterval(this.timer);
      return;
    }
    const pc = connection.pc;
    if (pc !== this.pc) {  // a new peer connection: the server's new peer starts at the top level
      this.pc = pc;
      this.previous = null;
      this.better = 0;
      if (this.level && this.level.level !== "high") this.restarted();
    }
    if (!pc || pc.connectionState !== "connected") {
      if (pc && this.grade) this.show("poor");
      return;
    }
    let stats;
    try {
      stats = await pc.getStats();
    } catch {
      return;  // closed meanwhile
    }
    const figures = measure(stats, this.previous);
    this.previous = figures;
    if (figures.loss === null) return;  // the first look: nothing to compare with yet
    this.measured = figures;
    const sender = connection.video && connection.video.sender;
    const measured = grade(figures, Boolean(sender && sender.track));
    // Worse at once; better only after two samples in a row, so the grade does not flicker.
    const shown = GRADES.indexOf(this.grade ?? "good");
    if (GRADES.indexOf(measured) >= shown || this.grade === null) {
      this.better = 0;
      this.show(measured);
    } else if (++this.better >= 2) {
      this.better = 0;
      this.show(measured);
    }
    this.showDetails(figures);
  }

  // The call started afresh: the server's new peer sends everything again.
  async restarted() {
    this.level = null;
    this.el("quality-note").hidden = true;
    delete this.connection.root.dataset.linkLevel;
    if (!this.video) {
      this.video = true;
      await this.follow(true);
    }
  }

  show(measured) {
    if (!measured) return;
    this.grade = measured;
    const capped = this.level ? LEVEL_GRADE[this.level.level] || "good" : "good";
    const shown = GRADES[Math.max(GRADES.indexOf(measured), GRADES.indexOf(capped))];
    const level = this.el("quality-level");
    const label = this.el("quality-label");
    const text = this.t[`quality_${shown}`];
    if (level.dataset.grade !== shown) level.dataset.grade = shown;
    if (label.textContent !== text) label.textContent = text;
    this.connection.root.dataset.linkGrade = shown;
    this.el("quality").hidden = false;
  }

  showDetails({loss, rtt, jitter, outgoing}) {
    const parts = [fill(this.t.quality_loss, {loss: `${Math.round(100 * (loss ?? 0))}%`})];
    if (rtt !== null) parts.push(fill(this.t.quality_rtt, {ms: Math.round(rtt * 1000)}));
    if (jitter !== null) parts.push(fill(this.t.quality_jitter, {ms: Math.round(jitter * 1000)}));
    if (outgoing !== null) parts.push(fill(this.t.quality_outgoing, {kbps: Math.round(outgoing / 1000)}));
    this.el("quality-details").textContent = parts.join(" · ");
  }
}
