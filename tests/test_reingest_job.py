"""The admin's re-ingest action queues a job; the worker brings the source up to date."""

import pytest
from procrastinate.contrib.django import app as job_app

from application.knowledge import ingestion
from data import models
from tests.workers import run_worker_until_idle

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_queued_reingest_picks_up_changed_added_and_removed_files(tmp_path):
    (tmp_path / "vpn.md").write_text("# VPN\n\nConnect with the old client.\n")
    (tmp_path / "old.md").write_text("# Old page\n\nGone soon.\n")
    await ingestion.ingest(paths=[tmp_path], source="handbook")
    source = await models.DocumentationSource.objects.aget(name="handbook")
    (tmp_path / "vpn.md").write_text("# VPN\n\nConnect with the new WireGuard client.\n")
    (tmp_path / "laptops.md").write_text("# Laptops\n\nAsk IT for a new laptop.\n")
    (tmp_path / "old.md").unlink()

    await job_app.configure_task("reingest_source").defer_async(source_id=source.pk)
    await run_worker_until_idle()

    paths = [
        path
        async for path in models.Document.objects.filter(source=source)
        .order_by("path")
        .values_list("path", flat=True)
    ]
    assert paths == ["laptops.md", "vpn.md"]
    texts = [
        text
        async for text in models.Chunk.objects.filter(document__path="vpn.md").values_list(
            "text", flat=True
        )
    ]
    assert any("WireGuard" in text for text in texts)
