"""An emulator of the online threat-intel providers: AbuseIPDB and VirusTotal."""

from .server import IntelEmulator

__all__ = ["IntelEmulator"]
