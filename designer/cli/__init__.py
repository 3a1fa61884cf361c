"""The command line (see ``main``); the backend never imports this package."""

from .main import main
from .support import UserError

__all__ = ["UserError", "main"]
