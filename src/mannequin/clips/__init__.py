"""Reading and writing clips: poses, frames, video and sensor depth."""
