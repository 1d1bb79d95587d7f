"""Sources on a schedule: the periodic job queues the due ones, the worker syncs them, and
the admin edits sources and shows how their last sync went."""

import datetime as dt
import json

import pytest
from asgiref.sync import sync_to_async
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from procrastinate.contrib.django import app as job_app

from application.knowledge import sources
from chatbot import tasks
from data import models
from tests import admin_support
from tests.workers import run_worker_until_idle

pytestmark = pytest.mark.django_db(transaction=True)

Kind = models.DocumentationSource.Kind


def _folder_source(
    root, *, name: str, next_sync_at: dt.datetime | None, schedule: str = "*/5 * * * *"
):
    (root / "vpn.md").write_text("# VPN\n\nUse the WireGuard client.\n")
    return models.DocumentationSource.objects.create(
        name=name, kind=Kind.FOLDER, root=str(root), schedule=schedule, next_sync_at=next_sync_at
    )


def _sync_jobs() -> list[tuple[dict, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT args, status FROM procrastinate_jobs WHERE task_name = 'reingest_source' "
            "ORDER BY id"
        )
        return [(json.loads(a) if isinstance(a, str) else a, s) for a, s in cursor.fetchall()]


async def test_the_periodic_job_syncs_due_sources_and_sets_their_next_run(tmp_path_factory):
    now = timezone.now()
    due = await sync_to_async(_folder_source)(
        tmp_path_factory.mktemp("due"), name="due", next_sync_at=now - dt.timedelta(minutes=1)
    )
    later = await sync_to_async(_folder_source)(
        tmp_path_factory.mktemp("later"), name="later", next_sync_at=now + dt.timedelta(hours=1)
    )
    manual = await sync_to_async(_folder_source)(
        tmp_path_factory.mktemp("manual"), name="manual", next_sync_at=None, schedule=""
    )

    await job_app.configure_task("sync_scheduled_sources").defer_async(
        timestamp=int(now.timestamp())
    )
    for _run in range(3):  # the tick, then the sync it queued (a worker may stop in between)
        await run_worker_until_idle()
        if await models.DocumentationSource.objects.filter(
            pk=due.pk, last_synced_at__isnull=False
        ).aexists():
            break

    synced = await models.DocumentationSource.objects.aget(pk=due.pk)
    assert synced.last_sync_outcome == models.DocumentationSource.SyncOutcome.OK
    assert synced.last_synced_at is not None
    assert synced.next_sync_at is not None
    assert synced.next_sync_at > now
    assert await models.Document.objects.filter(source=due).acount() == 1
    for untouched in (later, manual):
        source = await models.DocumentationSource.objects.aget(pk=untouched.pk)
        assert source.last_synced_at is None
        assert not await models.Document.objects.filter(source=untouched).aexists()


def test_a_source_whose_sync_is_still_queued_is_not_queued_twice(tmp_path):
    source = _folder_source(tmp_path, name="handbook", next_sync_at=timezone.now())

    first = async_to_sync_queue()
    models.DocumentationSource.objects.filter(pk=source.pk).update(next_sync_at=timezone.now())
    second = async_to_sync_queue()

    assert (first, second) == ([source.pk], [source.pk])
    assert [job for job in _sync_jobs() if job[0] == {"source_id": source.pk}] == [
        ({"source_id": source.pk}, "todo")
    ]
    source.refresh_from_db()
    assert source.next_sync_at > timezone.now()
    with connection.cursor() as cursor:  # not left for the next test's worker
        cursor.execute("DELETE FROM procrastinate_jobs WHERE status = 'todo'")


def async_to_sync_queue() -> list[int]:
    from asgiref.sync import async_to_sync

    return async_to_sync(sources.queue_scheduled)(queue=tasks._queue_scheduled_syncs)


@pytest.fixture
def admin_client():
    user = admin_support.make_reviewer("owner")
    user.is_superuser = True
    user.save()
    return admin_support.logged_in_client(user)


def test_the_admin_creates_a_web_source_with_a_schedule_and_refuses_bad_input(admin_client):
    url = reverse("admin:data_documentationsource_add")
    base = {
        "name": "site",
        "kind": Kind.WEB,
        "location": "https://docs.example.com/sitemap.xml",
        "root": "",
        "git_ref": "main",
        "git_subdir": "",
        "base_url": "",
        "url_template": "",
        "schedule": "0 * * * *",
    }

    bad = admin_client.post(url, {**base, "location": "docs.example.com", "schedule": "hourly"})

    assert bad.status_code == 200
    errors = bad.context["adminform"].form.errors
    assert "http(s) URL" in errors["location"][0]
    assert "not a cron expression" in errors["schedule"][0]
    assert not models.DocumentationSource.objects.exists()

    created = admin_client.post(url, base)

    assert created.status_code == 302
    source = models.DocumentationSource.objects.get(name="site")
    assert source.kind == Kind.WEB
    assert source.next_sync_at is not None
    assert source.next_sync_at.minute == 0
    assert source.next_sync_at > timezone.now()


def test_the_admin_shows_what_failed_in_the_last_sync(admin_client):
    source = models.DocumentationSource.objects.create(
        name="site",
        kind=Kind.WEB,
        location="https://docs.example.com/sitemap.xml",
        last_sync_outcome=models.DocumentationSource.SyncOutcome.PARTIAL,
        last_sync_errors=[{"path": "/docs/vpn/", "reason": "server error (503)"}],
        last_synced_at=timezone.now(),
    )

    listing = admin_client.get(reverse("admin:data_documentationsource_changelist"))
    page = admin_client.get(reverse("admin:data_documentationsource_change", args=[source.pk]))

    assert "Some pages or files failed" in listing.content.decode()
    assert "/docs/vpn/</code>: server error (503)" in page.content.decode()
