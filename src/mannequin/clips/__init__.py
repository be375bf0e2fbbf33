"""Reading and writing clips: poses, frames, video, sensor depth PNGs, splits and COLMAP models.

The sample-scene renderer that writes clips for the demo lives in :mod:`mannequin.sample`, not here.
"""
