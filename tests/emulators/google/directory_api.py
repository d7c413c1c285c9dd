"""Admin Directory over HTTP: users.list and users.get.

admin.directory_v1.json has an empty servicePath and method paths that start
with ``admin/directory/v1/``, so with ``api_endpoint=emu.url`` the calls arrive
at ``/admin/directory/v1/users``. Only administrators may read the directory
(the default ``viewType=admin_view``); anyone else gets Google's 403.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .directory import User
from .errors import GoogleApiError, bad_request
from .fields import select
from .wire import Api, Call, Handler, page_token, read_page_token

Json = dict[str, Any]
NOT_AUTHORIZED = "Not Authorized to access this resource/api"
PUBLIC_FIELDS = ("kind", "id", "etag", "primaryEmail", "name", "emails")


def _reader(call: Call) -> User:
    user = call.user
    public = call.query.get("viewType") == "domain_public"
    if user is None or not (user.admin or public):
        raise GoogleApiError(403, "forbidden", NOT_AUTHORIZED)
    return user


def _shown(call: Call, user: User) -> Json:
    shown = user.to_directory(call.ws.directory.customer_id)
    if call.query.get("viewType") == "domain_public":
        return {key: shown[key] for key in PUBLIC_FIELDS}
    return shown


def users_list(call: Call) -> Json:
    _reader(call)
    mask = call.mask("directory", "Users", None)
    directory = call.ws.directory
    customer, domain = call.query.get("customer"), call.query.get("domain")
    if not customer and not domain:
        raise bad_request("Bad Request")
    if customer and customer not in ("my_customer", directory.customer_id):
        raise bad_request("Bad Request", "customer")
    if call.query.get("query"):
        raise bad_request("The emulator does not evaluate users.list queries; "
                          "list every user and filter.", "query")
    page_size = call.integer("maxResults", 100, 1, 500, clamp=False) or 100
    users = [u for u in directory.in_order() if not domain or u.domain == domain.lower()]
    if call.query.get("sortOrder") == "DESCENDING":
        users.reverse()
    context = (call.grant.principal, customer, domain, call.query.get("sortOrder"))
    start = read_page_token(call.query.get("pageToken"), *context)
    page = users[start:start + page_size]
    answer: Json = {"kind": "admin#directory#users",
                    "etag": f'"{directory.customer_id}/{len(users)}"'}
    if page:
        answer["users"] = [_shown(call, user) for user in page]
    if start + page_size < len(users):
        answer["nextPageToken"] = page_token(start + page_size, *context)
    return select(answer, mask)


def users_get(call: Call) -> Json:
    _reader(call)
    mask = call.mask("directory", "User", None)
    key = call.require("userKey").lower()
    directory = call.ws.directory
    found = directory.get(key) or next((u for u in directory.users if u.id == key), None)
    if found is None:
        raise GoogleApiError(404, "notFound", "Resource Not Found: userKey",
                             location="userKey")
    return select(_shown(call, found), mask)


ROUTES: list[tuple[str, str, str, Handler]] = [
    ("GET", "/admin/directory/v1/users", "directory.users.list", users_list),
    ("GET", "/admin/directory/v1/users/{userKey}", "directory.users.get", users_get),
]


def add_routes(app: web.Application, api: Api) -> None:
    for verb, path, method_id, handler in ROUTES:
        app.router.add_route(verb, path, api.endpoint(method_id, handler))
