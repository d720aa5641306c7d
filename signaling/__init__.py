"""The room WebSocket (signalling, protocol in docs/signaling.md) and the
server's aiortc side (media/): calls between two parties and broadcasts from one
presenter to an audience. Apps register their kinds of room (rooms.py); this
package knows no domain."""
