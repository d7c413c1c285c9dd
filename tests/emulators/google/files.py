"""Drive items, stored by column so a million of them fit in little memory.

A file is a row number. Its id is derived from the row (a fixed salt plus the
row in hex, 33 characters like Drive's ids), so no id-to-row dictionary is
needed. Per row the table keeps a name pointer, a mime-type code, a "home"
(owner's user index, or a shared drive as a negative number), a creation time
and flags: about 22 bytes. What only some files have (parent folders, sharing
beyond the owner, a later modification) lives in sparse dictionaries.

Grants (permissions) are immutable and shared: a bulk load that shares every
tenth file with "anyone with the link" stores one Grant for all of them.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

FOLDER = "application/vnd.google-apps.folder"
DOCUMENT = "application/vnd.google-apps.document"
TRASHED = 1
ROLE_RANK = {
    "reader": 1, "commenter": 2, "writer": 3, "fileOrganizer": 4, "organizer": 5, "owner": 6,
}
ROW_DIGITS = 12


@dataclass(frozen=True, slots=True)
class Grant:
    """One permission: who (type and email/domain), what (role), until when."""

    id: str
    type: str
    role: str
    email: str | None = None
    domain: str | None = None
    discoverable: bool | None = None  # allowFileDiscovery, for domain and anyone
    expires: float | None = None

    def rank(self) -> int:
        return ROLE_RANK[self.role]


def home_of_drive(drive_index: int) -> int:
    return -drive_index - 1


def drive_of_home(home: int) -> int | None:
    return -home - 1 if home < 0 else None


class FileTable:
    def __init__(self, salt: str) -> None:
        self.prefix = "1" + salt
        self.names: list[str | tuple[str, int]] = []  # a name, or (prefix, first row)
        self.mime_codes = bytearray()
        self.mime_table: list[str] = [DOCUMENT, FOLDER]
        self.homes = array("i")
        self.created = array("d")
        self.flags = bytearray()
        self.parents: dict[int, tuple[str, ...]] = {}
        self.grants: dict[int, tuple[Grant, ...]] = {}
        self.modified: dict[int, float] = {}
        self.by_home: dict[int, array] = {}
        self.shared_with: dict[str, array] = {}
        self._shared_pairs: set[tuple[str, int]] = set()

    def __len__(self) -> int:
        return len(self.flags)

    # -- ids ---------------------------------------------------------------

    def id_of(self, row: int) -> str:
        return f"{self.prefix}{row:0{ROW_DIGITS}x}"

    def row_of(self, file_id: str) -> int | None:
        if len(file_id) != len(self.prefix) + ROW_DIGITS or not file_id.startswith(self.prefix):
            return None
        try:
            row = int(file_id[len(self.prefix):], 16)
        except ValueError:
            return None
        return row if row < len(self) else None

    # -- adding ------------------------------------------------------------

    def _mime_code(self, mime_type: str) -> int:
        try:
            return self.mime_table.index(mime_type)
        except ValueError:
            if len(self.mime_table) == 255:
                raise ValueError("the emulator keeps at most 255 mime types") from None
            self.mime_table.append(mime_type)
            return len(self.mime_table) - 1

    def add(self, name: str, mime_type: str, home: int, created: float,
            parents: Sequence[str] | None = None) -> int:
        row = len(self)
        self.names.append(name)
        self.mime_codes.append(self._mime_code(mime_type))
        self.homes.append(home)
        self.created.append(created)
        self.flags.append(0)
        if parents:
            self.parents[row] = tuple(parents)
        self.by_home.setdefault(home, array("i")).append(row)
        return row

    def add_numbered(self, prefix: str, mime_type: str, home: int, created: float,
                     count: int) -> range:
        """``count`` rows named "<prefix> 1", "<prefix> 2"... with no per-file objects."""
        first = len(self)
        rows = range(first, first + count)
        self.names.extend([(prefix, first)] * count)
        self.mime_codes.extend(bytes([self._mime_code(mime_type)]) * count)
        self.homes.extend(array("i", [home]) * count)
        self.created.extend(array("d", [created]) * count)
        self.flags.extend(bytes(count))
        self.by_home.setdefault(home, array("i")).extend(array("i", rows))
        return rows

    # -- reading -----------------------------------------------------------

    def name(self, row: int) -> str:
        name = self.names[row]
        if isinstance(name, tuple):
            return f"{name[0]} {row - name[1] + 1}"
        return name

    def mime_type(self, row: int) -> str:
        return self.mime_table[self.mime_codes[row]]

    def trashed(self, row: int) -> bool:
        return bool(self.flags[row] & TRASHED)

    def set_trashed(self, row: int, trashed: bool) -> None:
        if trashed:
            self.flags[row] |= TRASHED
        else:
            self.flags[row] &= ~TRASHED

    def modified_time(self, row: int) -> float:
        return self.modified.get(row, self.created[row])

    def direct_grants(self, row: int) -> tuple[Grant, ...]:
        """Permissions set on the item itself, beyond its owner."""
        return self.grants.get(row, ())

    def set_grants(self, row: int, grants: tuple[Grant, ...]) -> None:
        if grants:
            self.grants[row] = grants
        else:
            self.grants.pop(row, None)
        for grant in grants:
            pair = (grant.email or "", row)
            if grant.type == "user" and pair not in self._shared_pairs:
                # Kept after an unshare too: readers re-check access anyway.
                self._shared_pairs.add(pair)
                self.shared_with.setdefault(pair[0], array("i")).append(row)

    def rows_of(self, home: int) -> array:
        return self.by_home.get(home, array("i"))

    def move_home(self, row: int, home: int) -> None:
        """Ownership changed: re-index the row under its new home."""
        old = self.by_home[self.homes[row]]
        del old[old.index(row)]
        self.homes[row] = home
        self.by_home.setdefault(home, array("i")).append(row)


class FileIds(Sequence[str]):
    """The ids of a run of rows, without holding a million strings."""

    def __init__(self, table: FileTable, rows: range) -> None:
        self.table = table
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index):  # type: ignore[no-untyped-def]
        if isinstance(index, slice):
            return [self.table.id_of(row) for row in self.rows[index]]
        return self.table.id_of(self.rows[index])

    def __iter__(self) -> Iterator[str]:
        return (self.table.id_of(row) for row in self.rows)
