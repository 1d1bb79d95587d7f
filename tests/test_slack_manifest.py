"""``manage.py slack_manifest``: the manifest names every scope the code needs, for HTTP or
Socket Mode."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, call_command

ROOT = Path(__file__).resolve().parent.parent

# The scope each Slack Web API method the product calls needs (None: no scope).
SCOPES = {
    "assistant_threads_setStatus": "assistant:write",
    "assistant_threads_setSuggestedPrompts": "assistant:write",
    "assistant_threads_setTitle": "assistant:write",
    "chat_getPermalink": None,
    "chat_postMessage": "chat:write",
    "chat_postEphemeral": "chat:write",
    "chat_stopStream": "chat:write",
    "chat_stream": "chat:write",
    "chat_update": "chat:write",
    "conversations_replies": "channels:history",
    "conversations_history": "channels:history",
    "conversations_info": "channels:read",
    "reactions_add": "reactions:write",
    "reactions_remove": "reactions:write",
    "users_info": "users:read",
    "views_open": None,
    "views_publish": None,
}


def _manifest(*arguments: str) -> dict:
    from io import StringIO

    out = StringIO()
    call_command("slack_manifest", *arguments, stdout=out)
    return yaml.safe_load(out.getvalue())


def test_every_web_api_method_the_code_calls_has_its_scope_in_the_manifest():
    called = set()
    for path in [*ROOT.glob("chatbot/**/*.py"), *ROOT.glob("application/**/*.py")]:
        called |= set(re.findall(r"client\.([a-z]+_[A-Za-z]+)\(", path.read_text()))
    called -= {"web_client", "close_shared_session"}
    scopes = set(_manifest("--url", "https://bot.example.com")["oauth_config"]["scopes"]["bot"])

    assert called <= SCOPES.keys(), f"add the scope of {called - SCOPES.keys()} to SCOPES"
    assert {SCOPES[method] for method in called} - {None} <= scopes


def test_the_manifest_points_events_interactivity_and_ask_at_the_deployment():
    manifest = _manifest("--url", "https://bot.acme.com/")

    settings = manifest["settings"]
    assert settings["event_subscriptions"]["request_url"] == "https://bot.acme.com/slack/events"
    assert settings["interactivity"]["request_url"] == "https://bot.acme.com/slack/events"
    assert settings["socket_mode_enabled"] is False
    [ask] = manifest["features"]["slash_commands"]
    assert (ask["command"], ask["url"]) == ("/ask", "https://bot.acme.com/slack/events")
    [shortcut] = manifest["features"]["shortcuts"]
    assert shortcut["callback_id"] == "ask_about_message"
    assert {"app_mention", "app_home_opened", "assistant_thread_started", "message.im"} <= set(
        settings["event_subscriptions"]["bot_events"]
    )


def test_the_socket_mode_manifest_has_no_request_urls_and_is_the_one_in_the_repository():
    manifest = _manifest("--socket-mode")

    assert manifest["settings"]["socket_mode_enabled"] is True
    assert "bot.example.com" not in yaml.safe_dump(manifest)
    assert manifest == yaml.safe_load((ROOT / "slack/manifest-socket-mode.yaml").read_text())


@pytest.mark.parametrize("url", ["http://bot.acme.com", "bot.acme.com", "https://"])
def test_an_address_that_is_not_https_is_refused(url):
    with pytest.raises(CommandError, match="is not an https:// address"):
        _manifest("--url", url)


def test_the_command_says_what_to_give_when_given_nothing():
    result = subprocess.run(
        [sys.executable, "manage.py", "slack_manifest"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "DJANGO_DEBUG": "true", "HOME": "/tmp"},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    assert "one of the arguments --url --socket-mode is required" in result.stderr
