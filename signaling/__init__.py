"""WebRTC signalling and the aiortc media side (the video-consultation issue fills it)."""
