"""Every action id, callback id and block id Warden puts into Slack, in one place."""

# Slash commands, as declared in slack-app-manifest.yaml.
COMMAND_WARDEN = "/warden"
COMMAND_SECURITY_ALERT = "/securityalert"
COMMAND_ACCESS = "/access"

# Shortcuts.
SHORTCUT_REPORT_TO_SECURITY = "report_to_security"
SHORTCUT_REQUEST_ACCESS = "request_access"

# Views.
VIEW_NOTICE = "warden_notice"

# Blocks and actions on the App Home.
HOME_HELP_BUTTON = "home_show_help"
