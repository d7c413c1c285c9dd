"""The Web API over HTTP: ``POST /api/<method>`` with Slack's answers and errors.

Slack answers API errors with HTTP 200 and ``{"ok": false, "error": code}``;
only rate limits (429) and outages (5xx) change the status. Bodies arrive as
JSON or as a form, where ``blocks`` and ``view`` are JSON strings; slack_sdk
sends the read methods (users.info, conversations.info, ...) as GET.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from .blocks import message_error, validate_blocks, validate_view
from .faults import Faults
from .workspace import Conversation, Message, SlackError, Workspace

Json = dict[str, Any]
Handler = Callable[[Json], Json]
JSON_FIELDS = ("blocks", "view", "attachments", "metadata")
OUTAGE_PAGE = (
    "<html><head><title>Slack is down</title></head><body><h1>503 Service Unavailable</h1>"
    "<p>Slack is having trouble right now. Check https://slack-status.com</p></body></html>"
)


class WebApi:
    def __init__(
        self, ws: Workspace, faults: Faults, *, bot_token: str, app_token: str,
        socket_url: Callable[[], str], on_posted: Callable[[Message], None],
    ) -> None:
        self.ws = ws
        self.faults = faults
        self.bot_token = bot_token
        self.app_token = app_token
        self.socket_url = socket_url
        self.on_posted = on_posted
        self.calls: list[Json] = []
        self._calls_lock = threading.Lock()
        self.methods: dict[str, tuple[Handler, str]] = {
            "auth.test": (self.auth_test, "bot"),
            "apps.connections.open": (self.apps_connections_open, "app"),
            "chat.postMessage": (self.chat_post_message, "bot"),
            "chat.update": (self.chat_update, "bot"),
            "chat.postEphemeral": (self.chat_post_ephemeral, "bot"),
            "chat.getPermalink": (self.chat_get_permalink, "bot"),
            "conversations.open": (self.conversations_open, "bot"),
            "conversations.info": (self.conversations_info, "bot"),
            "users.info": (self.users_info, "bot"),
            "users.lookupByEmail": (self.users_lookup_by_email, "bot"),
            "views.open": (self.views_open, "bot"),
            "views.push": (self.views_push, "bot"),
            "views.update": (self.views_update, "bot"),
            "views.publish": (self.views_publish, "bot"),
        }

    # -- HTTP --------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        try:
            params = await read_params(request)
        except SlackError as error:
            return _refusal(error)
        form_token = params.pop("token", None)  # never keep a token in the call log
        token = _bearer(request) or form_token
        status, response = self._answer(method, params, token)
        self._record(method, params, status)
        return response

    def _answer(self, method: str, params: Json, token: str | None) -> tuple[int, web.Response]:
        if self.faults.down:
            return 503, web.Response(status=503, text=OUTAGE_PAGE, content_type="text/html")
        retry_after = self.faults.retry_after(method)
        if retry_after is not None:
            body = json.dumps({"ok": False, "error": "ratelimited"})
            headers = {"Retry-After": str(retry_after)}
            response = web.Response(status=429, text=body, headers=headers)
            response.content_type = "application/json"
            return 429, response
        try:
            handler = self._authorize(method, token)
            return 200, _ok(handler(params))
        except SlackError as error:
            return 200, _refusal(error)

    def _authorize(self, method: str, token: str | None) -> Handler:
        if not token:
            raise SlackError("not_authed")
        if token not in (self.bot_token, self.app_token):
            raise SlackError("invalid_auth")
        if method not in self.methods:
            raise SlackError("unknown_method")
        handler, kind = self.methods[method]
        if (kind == "app") != (token == self.app_token):
            raise SlackError("not_allowed_token_type")
        return handler

    def _record(self, method: str, params: Json, status: int) -> None:
        entry = {"method": method, "params": params, "at": self.ws.clock(), "status": status}
        with self._calls_lock:
            self.calls.append(entry)

    def recorded(self, method: str | None = None) -> list[Json]:
        with self._calls_lock:
            return [dict(c) for c in self.calls if method in (None, c["method"])]

    # -- auth and connections ---------------------------------------------

    def auth_test(self, params: Json) -> Json:
        ws = self.ws
        return {
            "url": f"https://{ws.team_domain}.slack.com/",
            "team": ws.team_name,
            "user": ws.user(ws.bot_user_id).name,
            "team_id": ws.team_id,
            "user_id": ws.bot_user_id,
            "bot_id": ws.bot_id,
            "is_enterprise_install": False,
        }

    def apps_connections_open(self, params: Json) -> Json:
        return {"url": self.socket_url()}

    # -- chat --------------------------------------------------------------

    def chat_post_message(self, params: Json) -> Json:
        channel = self._target(params)
        _check_message(params)
        message = self.ws.post(
            channel, self.ws.bot_user_id, params.get("text", ""), params.get("blocks"),
            params.get("thread_ts") or None,
        )
        self.on_posted(message)
        return {"channel": channel.id, "ts": message.ts, "message": self._shown(message)}

    def chat_update(self, params: Json) -> Json:
        channel = self._channel(params.get("channel"))
        message = self.ws.message(channel.id, str(params.get("ts", "")))
        if message.user != self.ws.bot_user_id:
            raise SlackError("cant_update_message")
        _check_message(params)
        self.ws.update_message(message, params.get("text"), params.get("blocks"))
        shown = self._shown(message)
        return {"channel": channel.id, "ts": message.ts, "text": message.text, "message": shown}

    def chat_post_ephemeral(self, params: Json) -> Json:
        channel = self._channel(params.get("channel"))
        user = self.ws.user(str(params.get("user", "")))
        _check_message(params)
        message = self.ws.post_ephemeral(
            channel, user.id, params.get("text", ""), params.get("blocks"),
            params.get("thread_ts") or None,
        )
        return {"message_ts": message.ts}

    def chat_get_permalink(self, params: Json) -> Json:
        channel = self._channel(params.get("channel"))
        message = self.ws.message(channel.id, str(params.get("message_ts", "")))
        link = (
            f"https://{self.ws.team_domain}.slack.com/archives/{channel.id}"
            f"/p{message.ts.replace('.', '')}"
        )
        if message.thread_ts and message.thread_ts != message.ts:
            link += f"?thread_ts={message.thread_ts}&cid={channel.id}"
        return {"channel": channel.id, "permalink": link}

    # -- conversations and users ------------------------------------------

    def conversations_open(self, params: Json) -> Json:
        users = params.get("users")
        if isinstance(users, str):
            users = [u for u in users.split(",") if u]
        if not users:
            raise SlackError("users_list_not_supplied")
        if len(users) > 1:
            # Group DMs (mpim) are not modelled; Warden only DMs one person.
            raise SlackError("not_implemented", ["the emulator opens one-person IMs only"])
        if users[0] == self.ws.bot_user_id:
            raise SlackError("cannot_dm_bot")
        im, created = self.ws.open_im(users[0])
        if str(params.get("return_im", "")).lower() in ("true", "1"):
            return {"channel": im.to_slack(self.ws.bot_user_id)}
        out: Json = {"channel": {"id": im.id}}
        if not created:
            out.update(no_op=True, already_open=True)
        return out

    def conversations_info(self, params: Json) -> Json:
        channel = self._channel(params.get("channel"))
        return {"channel": channel.to_slack(self.ws.bot_user_id)}

    def users_info(self, params: Json) -> Json:
        user = self.ws.user(str(params.get("user", "")))
        return {"user": user.to_slack(self.ws.clock())}

    def users_lookup_by_email(self, params: Json) -> Json:
        user = self.ws.user_by_email(str(params.get("email", "")))
        return {"user": user.to_slack(self.ws.clock())}

    # -- views -------------------------------------------------------------

    def views_open(self, params: Json) -> Json:
        view = _checked_view(params, "modal")
        trigger = self.ws.redeem_trigger(_required(params, "trigger_id"))
        return self._view(self.ws.open_modal(trigger.user, view))

    def views_push(self, params: Json) -> Json:
        view = _checked_view(params, "modal")
        trigger = self.ws.redeem_trigger(_required(params, "trigger_id"))
        return self._view(self.ws.push_modal(trigger.user, view))

    def views_update(self, params: Json) -> Json:
        view_id, external_id = params.get("view_id"), params.get("external_id")
        if not view_id and not external_id:
            raise SlackError("invalid_arguments", ["[ERROR] view_id or external_id is required"])
        spec = _checked_view(params, None)
        target = self.ws.view(view_id=view_id, external_id=external_id)
        if spec["type"] != target.type:
            raise SlackError("invalid_arguments", ["[ERROR] cannot change the view type"])
        return self._view(self.ws.update_view(target, spec, params.get("hash")))

    def views_publish(self, params: Json) -> Json:
        spec = _checked_view(params, "home")
        user_id = _required(params, "user_id")
        return self._view(self.ws.publish_home(user_id, spec, params.get("hash")))

    # -- helpers -----------------------------------------------------------

    def _channel(self, ref: Any) -> Conversation:
        if not ref:
            raise SlackError("channel_not_found")
        return self.ws.conversation(str(ref), viewer=self.ws.bot_user_id)

    def _target(self, params: Json) -> Conversation:
        """chat.postMessage's channel; a user id means the app's DM with them."""
        ref = str(params.get("channel") or "")
        if ref[:1] in ("U", "W") and ref in self.ws.users:
            return self.ws.open_im(ref)[0]
        return self._channel(ref)

    def _shown(self, message: Message) -> Json:
        return message.to_slack(self.ws.team_id)

    def _view(self, view: Any) -> Json:
        return {"view": view.to_slack(self.ws.team_id, self.ws.app_id, self.ws.bot_id)}


async def read_params(request: web.Request) -> Json:
    """Merge query and body parameters; decode the JSON-in-a-form fields."""
    params: Json = dict(request.query)
    raw = await request.text()
    if request.content_type == "application/json" and raw.strip():
        try:
            body = json.loads(raw)
        except json.JSONDecodeError as error:
            raise SlackError("invalid_json") from error
        if not isinstance(body, dict):
            raise SlackError("invalid_json")
        params.update(body)
    elif raw:
        params.update(parse_qsl(raw, keep_blank_values=True))
    for key in JSON_FIELDS:
        if isinstance(params.get(key), str) and params[key]:
            try:
                params[key] = json.loads(params[key])
            except json.JSONDecodeError as error:
                code = "invalid_blocks_format" if key == "blocks" else "invalid_arguments"
                raise SlackError(code, [f"[ERROR] {key} is not valid JSON"]) from error
    return params


def _bearer(request: web.Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme != "Bearer":
        return None
    return token.strip() or None


def _check_message(params: Json) -> None:
    code = message_error(params.get("text"), params.get("blocks"))
    if code:
        raise SlackError(code)
    errors = validate_blocks(params.get("blocks"))
    if errors:
        raise SlackError("invalid_blocks", errors)


def _checked_view(params: Json, kind: str | None) -> Json:
    view = params.get("view")
    if view is None:
        raise SlackError("invalid_arguments", ["[ERROR] missing required field: view"])
    errors = validate_view(view)
    if not errors and kind and view.get("type") != kind:
        errors = [f"[ERROR] must be {kind} [json-pointer:/view/type]"]
    if errors:
        raise SlackError("invalid_arguments", errors)
    return view


def _required(params: Json, name: str) -> str:
    value = params.get(name)
    if not value:
        raise SlackError("invalid_arguments", [f"[ERROR] missing required field: {name}"])
    return str(value)


def _ok(result: Json) -> web.Response:
    return web.json_response({"ok": True, **result})


def _refusal(error: SlackError) -> web.Response:
    body: Json = {"ok": False, "error": error.code}
    if error.messages:
        if error.code == "invalid_blocks":
            # Slack lists the bare sentences too, beside the [ERROR]-tagged ones.
            body["errors"] = [m.removeprefix("[ERROR] ") for m in error.messages]
        body["response_metadata"] = {"messages": error.messages}
    return web.json_response(body)
