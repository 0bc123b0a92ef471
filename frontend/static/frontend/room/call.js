// One RTCPeerConnection per remote peer, with perfect negotiation (the server assigns `polite`).
// A negotiated data channel carries each side's own state to the other (microphone, camera,
// link quality) peer to peer: no signaling frame of the server's protocol is needed for it.
export class PeerCall {
  constructor({ peer, polite, iceServers, stream, signaling, onTrack, onState, onPeerState }) {
    Object.assign(this, { peer, polite, signaling, onState });
    this.makingOffer = false;
    this.ignoreOffer = false;
    this.pending = [];
    this.pc = new RTCPeerConnection({ iceServers });
    for (const track of stream.getTracks()) this.pc.addTrack(track, stream);
    this.pc.ontrack = (e) => onTrack(e.streams[0] || new MediaStream([e.track]));
    this.pc.onicecandidate = ({ candidate }) =>
      this.signal({ type: "candidate", candidate: candidate ? candidate.toJSON() : null });
    this.pc.onnegotiationneeded = () => this.offer();
    this.pc.oniceconnectionstatechange = () => this.watchIce();
    this.channel = this.pc.createDataChannel("state", { negotiated: true, id: 0 });
    this.channel.onmessage = (e) => onPeerState(JSON.parse(e.data));
  }

  tell(state) {
    if (this.channel.readyState === "open") this.channel.send(JSON.stringify(state));
  }

  signal(frame) {
    this.signaling.send({ ...frame, to: this.peer });
  }

  async offer(restart = false) {
    try {
      this.makingOffer = true;
      if (restart) this.pc.restartIce();
      await this.pc.setLocalDescription();
      this.signal({ type: "offer", sdp: this.pc.localDescription.sdp, restart });
    } finally {
      this.makingOffer = false;
    }
  }

  async onDescription(type, sdp) {
    const collision = type === "offer" && (this.makingOffer || this.pc.signalingState !== "stable");
    this.ignoreOffer = !this.polite && collision;
    if (this.ignoreOffer) return;
    await this.pc.setRemoteDescription({ type, sdp });
    for (const c of this.pending.splice(0)) await this.addCandidate(c);
    if (type === "offer") {
      await this.pc.setLocalDescription();
      this.signal({ type: "answer", sdp: this.pc.localDescription.sdp });
    }
  }

  async addCandidate(candidate) {
    // Candidates that arrive before the remote description wait for it.
    if (!this.pc.remoteDescription) return this.pending.push(candidate);
    try {
      await this.pc.addIceCandidate(candidate);
    } catch (err) {
      if (!this.ignoreOffer) console.warn("candidate", err);
    }
  }

  watchIce() {
    const state = this.pc.iceConnectionState;
    this.onState(state);
    clearTimeout(this.iceTimer);
    if (state === "failed") this.restartIce();
    if (state === "disconnected") this.iceTimer = setTimeout(() => this.restartIce(), 5000);
  }

  restartIce() {
    // ICE restart once signaling is back; the impolite side offers, the polite side asks.
    if (this.polite) this.signal({ type: "restart" });
    else this.offer(true);
  }

  close() {
    clearTimeout(this.iceTimer);
    this.pc.close();
  }
}
