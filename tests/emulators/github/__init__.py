"""A GitHub emulator: users, orgs, repositories, collaborators, invitations, issues."""

from .errors import GitHubError
from .model import PERMISSION_TO_ROLE, ROLES
from .server import GitHubEmulator

__all__ = ["PERMISSION_TO_ROLE", "ROLES", "GitHubEmulator", "GitHubError"]
