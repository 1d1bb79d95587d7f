"""Links from the admin into Slack."""

from django.conf import settings


def message_url(*, channel_id: str, message_ts: str, thread_ts: str = "") -> str:
    """A link that opens the message in Slack (``SLACK_WORKSPACE_URL``, or Slack's redirect)."""
    if not channel_id or not message_ts:
        return ""
    url = f"{settings.SLACK_WORKSPACE_URL}/archives/{channel_id}/p{message_ts.replace('.', '')}"
    if thread_ts and thread_ts != message_ts:
        url += f"?thread_ts={thread_ts}&cid={channel_id}"
    return url
