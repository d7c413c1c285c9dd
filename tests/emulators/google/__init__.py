"""A Google emulator: OAuth token endpoint, Drive v3 and Admin Directory."""

from .errors import GoogleApiError, OAuthError
from .files import DOCUMENT, FOLDER, FileIds
from .server import GoogleEmulator
from .workspace import Workspace

__all__ = [
    "DOCUMENT", "FOLDER", "FileIds", "GoogleApiError", "GoogleEmulator", "OAuthError",
    "Workspace",
]
