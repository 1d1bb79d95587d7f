"""Helpers shared by the admin tests: the reviewers group, users, and form posting."""

import importlib
from typing import Any

from bs4 import BeautifulSoup
from django.apps import apps as django_apps
from django.contrib.auth.models import Group
from django.test import Client

from tests import factories

REVIEWERS_GROUP = "Q&A reviewers"
PASSWORD = "correct horse battery staple"

_group_migration = importlib.import_module("data.migrations.0002_admin_reviewers_group")
_escalations_migration = importlib.import_module(
    "data.migrations.0012_feedback_reasons_and_escalations"
)
_evals_migration = importlib.import_module("data.migrations.0024_evals")


def reviewers_group() -> Group:
    """The migration's group; recreated the same way after a transactional test flushed it."""
    group = Group.objects.filter(name=REVIEWERS_GROUP).first()
    if group is None:
        _group_migration.create_reviewers_group(django_apps, None)
        _escalations_migration.grant_reviewers(django_apps, None)
        _evals_migration.grant_reviewers(django_apps, None)
        group = Group.objects.get(name=REVIEWERS_GROUP)
    return group


def make_reviewer(username: str = "reviewer") -> Any:
    user = factories.UserFactory.create(username=username, is_staff=True)
    user.groups.add(reviewers_group())
    return user


def form_data(html: bytes | str, form_id: str) -> dict[str, Any]:
    """What a browser would submit for the form, as it was rendered."""
    soup = BeautifulSoup(html, "html.parser")
    form = soup.find("form", id=form_id)
    assert form is not None, f"no form #{form_id} on the page"
    data: dict[str, Any] = {}
    for field in form.find_all(["input", "select", "textarea"]):
        name = str(field.get("name") or "")
        if not name or field.has_attr("disabled"):
            continue
        if field.name == "textarea":
            data[name] = field.text.removeprefix("\n")
        elif field.name == "select":
            selected = field.find("option", selected=True)
            data[name] = selected["value"] if selected else ""
        elif field.get("type") in {"checkbox", "radio"}:
            if field.has_attr("checked"):
                data[name] = field.get("value", "on")
        elif field.get("type") not in {"submit", "button"}:
            data[name] = field.get("value", "")
    return data


def logged_in_client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client
