"""mannequin: learn monocular depth from video of frozen scenes."""

__version__ = "0.1.0"
