"""CNN Designer: design, analyse and run convolutional networks."""

__version__ = "0.1.0"
