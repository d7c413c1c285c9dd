"""files.list and changes.list: the two calls a scan spends its quota on.

files.list walks an index (a user's own files, files shared with them, a
shared drive's items) from a position; the page token is that position, so a
page costs what it returns, never a copy of the index. At most MAX_SCAN rows
are examined per call; a query that matches little can answer a short page
with a nextPageToken, which Drive's reference allows ("The service may return
fewer than this value").
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Sequence
from itertools import islice
from typing import Any

from . import query as q_language
from .directory import User, rfc3339
from .errors import bad_request, drive_not_found, invalid_value
from .fields import Mask, select, sub
from .files import home_of_drive
from .render import DEFAULT_FILE, file_json
from .wire import Call, page_token, read_page_token
from .workspace import SharedDrive, Workspace

Json = dict[str, Any]
CORPORA = ("user", "domain", "drive", "allDrives")
MAX_SCAN = 50_000
SOURCE_SPAN = 1 << 40
DEFAULT_FILE_LIST: Mask = {
    "kind": None, "nextPageToken": None, "incompleteSearch": None, "files": DEFAULT_FILE,
}
DEFAULT_CHANGE: Mask = {
    "kind": None, "changeType": None, "type": None, "time": None, "removed": None,
    "fileId": None, "driveId": None, "file": DEFAULT_FILE,
}
DEFAULT_CHANGE_LIST: Mask = {
    "kind": None, "nextPageToken": None, "newStartPageToken": None, "changes": DEFAULT_CHANGE,
}


def member_drive(call: Call, drive_id: str) -> SharedDrive:
    """The shared drive, if the caller is a member; Drive says "not found" otherwise."""
    drive = call.ws.drive_by_id.get(drive_id)
    if drive is None or call.ws.member_role(call.user, drive) is None:
        raise drive_not_found(drive_id)
    return drive


def _sources(call: Call, corpora: str, drive_id: str | None,
             query: q_language.Query) -> list[Sequence[int]]:
    ws, user = call.ws, call.user
    if user is None:
        return []
    if corpora == "drive":
        return [ws.files.rows_of(home_of_drive(member_drive(call, drive_id or "").index))]
    if query.owners:
        owner = ws.directory.get(query.owners[0])
        sources: list[Sequence[int]] = [ws.files.rows_of(owner.index) if owner else array("i")]
    else:
        sources = [ws.files.rows_of(user.index), ws.files.shared_with.get(user.email, ())]
    if corpora == "domain":
        discoverable = (r for r, grants in ws.files.grants.items()
                        if any(g.discoverable for g in grants))
        sources.append(sorted(discoverable))  # items others made searchable
    if corpora == "allDrives":
        for drive in ws.drives:
            if user.email in drive.members:
                sources.append(ws.files.rows_of(home_of_drive(drive.index)))
    return sources


def _matches(ws: Workspace, user: User, row: int, query: q_language.Query,
             with_drives: bool) -> bool:
    files = ws.files
    if query.trashed is not None and files.trashed(row) != query.trashed:
        return False
    if not query.matches_mime(files.mime_type(row)):
        return False
    if query.parents and not set(query.parents) <= set(ws.parent_ids(row)):
        return False
    if query.owners:
        owner = ws.owner_of(row)
        if owner is None or any(owner.email != wanted for wanted in query.owners):
            return False
    if ws.drive_of(row) is not None and not with_drives:
        return False  # shared drive items only for clients that ask for them
    return ws.role_of(user, row) is not None


def _walk(sources: list[Sequence[int]], start: int) -> Iterator[tuple[int, int, int]]:
    """(position, source number, row) from position ``start`` on.

    A position is the source number in the high bits and the offset inside
    that source in the low ones, so files added to one index between two
    pages do not shift the positions in the others.
    """
    first, offset = divmod(start, SOURCE_SPAN)
    for number in range(first, len(sources)):
        source = sources[number]
        for at in range(offset if number == first else 0, len(source)):
            yield number * SOURCE_SPAN + at, number, source[at]


def files_list(call: Call) -> Json:
    ws, user = call.ws, call.user
    mask = call.mask("drive", "FileList", DEFAULT_FILE_LIST)
    page_size = call.integer("pageSize", 100, 1, 1000)
    corpora = call.query.get("corpora", "user")
    drive_id = call.query.get("driveId")
    if corpora not in CORPORA:
        raise invalid_value("corpora")
    if (corpora == "drive") != (drive_id is not None):
        raise invalid_value(
            "driveId", "The driveId parameter must be specified if and only if corpora "
            "is set to drive."
        )
    if corpora in ("drive", "allDrives") and not call.flag("includeItemsFromAllDrives"):
        raise bad_request(f"The includeItemsFromAllDrives parameter must be set to true "
                          f"when corpora is set to {corpora}.", "includeItemsFromAllDrives")
    if call.flag("includeItemsFromAllDrives") and not call.flag("supportsAllDrives"):
        raise bad_request("The includeItemsFromAllDrives parameter can only be set to true "
                          "when supportsAllDrives is also true.", "supportsAllDrives")
    with_drives = bool(call.flag("includeItemsFromAllDrives"))
    me = user.email if user else call.grant.principal
    text = call.query.get("q")
    query = q_language.parse(text, me)
    context = (me, corpora, drive_id, text)
    start = read_page_token(call.query.get("pageToken"), *context)
    sources = _sources(call, corpora, drive_id, query)
    include, file_mask = sub(mask, "files")
    found: list[Json] = []
    next_position: int | None = None
    scanned = 0
    for position, number, row in _walk(sources, start):
        if len(found) == page_size or scanned == MAX_SCAN:
            next_position = position
            break
        scanned += 1
        if number > 0 and user is not None and ws.files.homes[row] == user.index:
            continue  # already listed among the user's own files
        if user is not None and _matches(ws, user, row, query, with_drives):
            found.append(file_json(ws, row, user, file_mask) if include else {})
    answer: Json = {"kind": "drive#fileList", "incompleteSearch": False, "files": found}
    if next_position is not None:
        answer["nextPageToken"] = page_token(next_position, *context)
    return select(answer, mask)


def changes_list(call: Call) -> Json:
    ws, user = call.ws, call.user
    mask = call.mask("drive", "ChangeList", DEFAULT_CHANGE_LIST)
    token = call.require("pageToken")
    if not token.isdigit():
        raise invalid_value("pageToken")
    page_size = call.integer("pageSize", 100, 1, 1000) or 100
    with_drives = bool(call.flag("includeItemsFromAllDrives"))
    drive_id = call.query.get("driveId")
    if drive_id is not None:
        keys = [f"drive:{member_drive(call, drive_id).index}"]
        with_drives = True
    else:
        keys = ws.feeds_of(user, with_drives) if user else []
    include_removed = call.flag("includeRemoved") is not False
    entries = _visible_changes(call, ws.changes.read(keys, int(token)), with_drives,
                               include_removed)
    page = list(islice(entries, page_size))
    include, change_mask = sub(mask, "changes")
    answer: Json = {"kind": "drive#changeList", "changes": [
        _change_json(ws, user, entry, change_mask) for entry in page
    ] if include else []}
    following = next(entries, None)
    if following is not None:
        answer["nextPageToken"] = str(following[0].seq)
    else:
        answer["newStartPageToken"] = ws.changes.start_token()
    return select(answer, mask)


def _visible_changes(call: Call, entries: Iterator[Any], with_drives: bool,
                     include_removed: bool) -> Iterator[tuple[Any, bool]]:
    ws, user = call.ws, call.user
    for entry in entries:
        if ws.drive_of(entry.row) is not None and not with_drives:
            continue
        removed = ws.role_of(user, entry.row) is None
        if removed and not include_removed:
            continue
        yield entry, removed


def _change_json(ws: Workspace, user: User | None, item: tuple[Any, bool],
                 mask: Mask | None) -> Json:
    entry, removed = item
    drive = ws.drive_of(entry.row)
    change: Json = {
        "kind": "drive#change", "changeType": "file", "type": "file",
        "time": rfc3339(entry.time), "removed": removed, "fileId": ws.files.id_of(entry.row),
    }
    if drive is not None:
        change["driveId"] = drive.id
    include, file_mask = sub(mask, "file")
    if include and not removed:
        change["file"] = file_json(ws, entry.row, user, file_mask)
    return select(change, mask)
