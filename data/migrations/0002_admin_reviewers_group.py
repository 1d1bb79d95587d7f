"""The "Q&A reviewers" group: view everything reviewers need, change only questions.

The question admin limits "change" to the review fields. Permissions are created here first,
because on a fresh database Django only creates them after all migrations have run.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP_NAME = "Q&A reviewers"
VIEW_MODELS = (
    "question",
    "answer",
    "citation",
    "agentrun",
    "feedback",
    "documentationsource",
    "document",
    "chunk",
    "releasenotes",
)
CHANGE_MODELS = ("question",)


def create_reviewers_group(apps, schema_editor):
    for app_config in apps.get_app_configs():
        # Historical app configs have no models module, and create_permissions skips those.
        original = getattr(app_config, "models_module", None)
        app_config.models_module = original or True
        try:
            create_permissions(app_config, apps=apps, verbosity=0)
        finally:
            app_config.models_module = original
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    codenames = [f"view_{name}" for name in VIEW_MODELS] + [
        f"change_{name}" for name in CHANGE_MODELS
    ]
    permissions = list(
        Permission.objects.filter(content_type__app_label="data", codename__in=codenames)
    )
    missing = set(codenames) - {permission.codename for permission in permissions}
    if missing:
        raise RuntimeError(f"Permissions missing for the reviewers group: {sorted(missing)}")
    group, _ = Group.objects.get_or_create(name=GROUP_NAME)
    group.permissions.set(permissions)


def delete_reviewers_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("data", "0001_initial"),
        ("auth", "__latest__"),
        ("contenttypes", "__latest__"),
    ]

    operations = [migrations.RunPython(create_reviewers_group, delete_reviewers_group)]
