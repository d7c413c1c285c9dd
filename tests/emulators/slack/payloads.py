"""The payloads Slack sends an app, built from the workspace's state.

Shapes follow the recorded samples in slackapi/java-slack-sdk (json-logs/samples/
app-backend) and Slack's Events API docs. Every builder takes the workspace and
returns a plain dict ready to go inside a Socket Mode envelope.
"""

from __future__ import annotations

from typing import Any

from .workspace import Conversation, Message, User, View, Workspace

Json = dict[str, Any]


def team(ws: Workspace) -> Json:
    return {"id": ws.team_id, "domain": ws.team_domain}


def user_ref(ws: Workspace, user: User) -> Json:
    return {"id": user.id, "username": user.name, "name": user.name, "team_id": ws.team_id}


def channel_ref(conversation: Conversation) -> Json:
    # Slack hides the real name of IMs and private channels in these payloads.
    if conversation.is_im:
        return {"id": conversation.id, "name": "directmessage"}
    name = "privategroup" if conversation.is_private else conversation.name
    return {"id": conversation.id, "name": name}


def slash_command(
    ws: Workspace, user: User, channel: Conversation, command: str, text: str,
    response_url: str, trigger_id: str,
) -> dict[str, str]:
    """A slash command: Slack's form fields, every value a string."""
    return {
        "token": ws.verification_token,
        "team_id": ws.team_id,
        "team_domain": ws.team_domain,
        "channel_id": channel.id,
        "channel_name": channel_ref(channel)["name"],
        "user_id": user.id,
        "user_name": user.name,
        "command": command,
        "text": text,
        "api_app_id": ws.app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }


def _interaction(ws: Workspace, kind: str, user: User, trigger_id: str | None) -> Json:
    payload: Json = {"type": kind, "user": user_ref(ws, user), "api_app_id": ws.app_id}
    payload.update(token=ws.verification_token, team=team(ws), enterprise=None)
    payload["is_enterprise_install"] = False
    if trigger_id:
        payload["trigger_id"] = trigger_id
    return payload


def button_action(ws: Workspace, block_id: str, button: Json) -> Json:
    """One entry of ``actions`` for a clicked button."""
    action = {
        "action_id": button.get("action_id"),
        "block_id": block_id,
        "text": button.get("text"),
        "type": "button",
        "action_ts": ws.new_ts(),
    }
    for key in ("value", "style", "url"):
        if key in button:
            action[key] = button[key]
    return action


def message_block_actions(
    ws: Workspace, user: User, channel: Conversation, message: Message, action: Json,
    response_url: str, trigger_id: str,
) -> Json:
    """block_actions from a button in a message (ephemeral or not)."""
    payload = _interaction(ws, "block_actions", user, trigger_id)
    payload["container"] = {
        "type": "message",
        "message_ts": message.ts,
        "channel_id": channel.id,
        "is_ephemeral": message.visible_to is not None,
    }
    if message.thread_ts and message.thread_ts != message.ts:
        payload["container"]["thread_ts"] = message.thread_ts
    payload["channel"] = channel_ref(channel)
    if message.visible_to is None:
        # Slack leaves the message out when the clicked message was ephemeral.
        payload["message"] = message.to_slack(ws.team_id)
    payload.update(state={"values": {}}, response_url=response_url, actions=[action])
    return payload


def view_block_actions(
    ws: Workspace, user: User, view: View, action: Json, trigger_id: str
) -> Json:
    """block_actions from a button in a modal or on the Home tab."""
    payload = _interaction(ws, "block_actions", user, trigger_id)
    payload["container"] = {"type": "view", "view_id": view.id}
    payload["view"] = view.to_slack(ws.team_id, ws.app_id, ws.bot_id)
    payload["actions"] = [action]
    return payload


def view_submission(ws: Workspace, user: User, view: View, trigger_id: str) -> Json:
    payload = _interaction(ws, "view_submission", user, trigger_id)
    payload["view"] = view.to_slack(ws.team_id, ws.app_id, ws.bot_id)
    payload["response_urls"] = []
    return payload


def view_closed(ws: Workspace, user: User, view: View, is_cleared: bool) -> Json:
    payload = _interaction(ws, "view_closed", user, None)
    payload["view"] = view.to_slack(ws.team_id, ws.app_id, ws.bot_id)
    payload["is_cleared"] = is_cleared
    return payload


def global_shortcut(ws: Workspace, user: User, callback_id: str, trigger_id: str) -> Json:
    payload = _interaction(ws, "shortcut", user, trigger_id)
    payload.update(callback_id=callback_id, action_ts=ws.new_ts())
    return payload


def message_shortcut(
    ws: Workspace, user: User, channel: Conversation, message: Message, callback_id: str,
    response_url: str, trigger_id: str,
) -> Json:
    payload = _interaction(ws, "message_action", user, trigger_id)
    payload.update(callback_id=callback_id, action_ts=ws.new_ts())
    payload.update(message_ts=message.ts, message=message.to_slack(ws.team_id))
    payload.update(channel=channel_ref(channel), response_url=response_url)
    return payload


def event_callback(ws: Workspace, event: Json) -> Json:
    """Wrap an event the way the Events API delivers it."""
    return {
        "token": ws.verification_token,
        "team_id": ws.team_id,
        "api_app_id": ws.app_id,
        "event": event,
        "type": "event_callback",
        "event_id": ws.new_id("Ev"),
        "event_time": int(ws.clock()),
        "authorizations": [{
            "enterprise_id": None,
            "team_id": ws.team_id,
            "user_id": ws.bot_user_id,
            "is_bot": True,
            "is_enterprise_install": False,
        }],
        "is_ext_shared_channel": False,
        "event_context": f"4-{ws.new_hex(40)}",
    }


def message_event(ws: Workspace, message: Message, channel: Conversation) -> Json:
    event = message.to_slack(ws.team_id)
    event.update(channel=channel.id, event_ts=message.ts, channel_type=channel.channel_type)
    if not message.bot_id:
        event["client_msg_id"] = ws.new_uuid()
    return event


def app_home_opened(ws: Workspace, user: User, im: Conversation, home: View | None) -> Json:
    event: Json = {"type": "app_home_opened", "user": user.id, "channel": im.id, "tab": "home"}
    if home is not None:
        event["view"] = home.to_slack(ws.team_id, ws.app_id, ws.bot_id)
    event["event_ts"] = ws.new_ts()
    return event


def rich_text(text: str) -> list[Json]:
    """The rich_text block Slack's client attaches to what a person types."""
    section = {"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}
    return [{"type": "rich_text", "elements": [section]}]
