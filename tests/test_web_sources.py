"""Web sources: a documentation site on 127.0.0.1, read through its sitemap or by crawling."""

import io
import socket

import pytest
from asgiref.sync import async_to_sync
from django.core.management import CommandError, call_command
from django.urls import reverse

from application.knowledge import sources
from data import models
from tests import admin_support, factories
from tests.fakes import docs_site

pytestmark = pytest.mark.django_db(transaction=True)

Outcome = models.DocumentationSource.SyncOutcome


@pytest.fixture
def site(settings):
    settings.CHATBOT_WEB_REQUESTS_PER_SECOND = 1000
    settings.CHATBOT_WEB_TIMEOUT = 0.5
    served = docs_site.DocsSite()
    served.start()
    yield served
    served.stop()


def _handbook(site: docs_site.DocsSite) -> None:
    site.put(
        "/docs/setup/",
        docs_site.html(
            "Setup",
            sections={"Database": "Point DATABASE_URL at PostgreSQL.", "Mail": "Set SMTP_HOST."},
        ),
    )
    site.put(
        "/docs/vpn/",
        docs_site.html("VPN", sections={"Connecting": "Use the WireGuard client."}),
    )
    site.put(
        "/sitemap.xml",
        docs_site.sitemap([site.url("/docs/setup/"), site.url("/docs/vpn/")]),
        content_type="application/xml",
    )


async def _sync(site: docs_site.DocsSite, path: str = "/sitemap.xml") -> sources.SyncReport:
    return await sources.add_and_sync(name="site", kind=sources.Kind.WEB, location=site.url(path))


async def _texts(path: str) -> list[str]:
    return [
        text
        async for text in models.Chunk.objects.filter(document__path=path)
        .order_by("position")
        .values_list("text", flat=True)
    ]


async def _paths() -> list[str]:
    return [
        path
        async for path in models.Document.objects.order_by("path").values_list("path", flat=True)
    ]


async def test_a_sitemap_site_is_ingested_with_its_main_content_and_links_to_its_anchors(site):
    _handbook(site)

    result = await _sync(site)

    assert result.outcome == Outcome.OK
    assert result.report is not None
    assert result.report.added == 2
    assert await _paths() == ["/docs/setup/", "/docs/vpn/"]
    document = await models.Document.objects.aget(path="/docs/setup/")
    assert document.url == site.url("/docs/setup/")
    anchors = [
        anchor
        async for anchor in models.Chunk.objects.filter(document=document).values_list(
            "anchor", flat=True
        )
    ]
    assert "database" in anchors
    text = " ".join(await _texts("/docs/setup/"))
    assert "DATABASE_URL" in text
    assert "boilerplate" not in text.lower()  # menu and footer dropped
    source = await models.DocumentationSource.objects.aget(name="site")
    assert source.kind == models.DocumentationSource.Kind.WEB
    assert (source.last_sync_outcome, source.last_sync_pages) == (Outcome.OK, 2)
    assert source.last_synced_at is not None


async def test_unchanged_pages_are_asked_for_conditionally_and_cost_a_304(site):
    _handbook(site)
    await _sync(site)
    first = await models.Document.objects.aget(path="/docs/vpn/")

    result = await _sync(site)

    assert result.report is not None
    assert (result.report.unchanged, result.report.updated) == (2, 0)
    again = site.requested("/docs/vpn/")[-1]
    assert again.headers.get("If-None-Match") == first.etag
    assert again.headers.get("If-Modified-Since") == docs_site.DocsSite.LAST_MODIFIED
    assert (await models.Document.objects.aget(path="/docs/vpn/")).ingested_at == first.ingested_at

    site.put("/docs/vpn/", docs_site.html("VPN", sections={"Connecting": "Use OpenVPN now."}))
    changed = await _sync(site)
    assert changed.report is not None
    assert changed.report.updated == 1
    assert any("OpenVPN" in text for text in await _texts("/docs/vpn/"))


def test_a_page_dropped_from_the_sitemap_leaves_search_and_its_citations_stay_readable(site):
    _handbook(site)
    async_to_sync(_sync)(site)
    chunk = models.Chunk.objects.get(document__path="/docs/vpn/", position=0)
    link = site.url("/docs/vpn/#connecting")
    citation = factories.CitationFactory.create(
        chunk=chunk, title="VPN", heading="Connecting", url=link
    )
    site.put(
        "/sitemap.xml",
        docs_site.sitemap([site.url("/docs/setup/")]),
        content_type="application/xml",
    )

    result = async_to_sync(_sync)(site)

    assert result.report is not None
    assert result.report.removed == 1
    assert list(models.Document.objects.values_list("path", flat=True)) == ["/docs/setup/"]
    assert not models.Chunk.objects.filter(document__path="/docs/vpn/").exists()
    reviewer = admin_support.logged_in_client(admin_support.make_reviewer())
    page = reviewer.get(
        reverse("admin:data_question_change", args=[citation.answer.question_id])
    ).content.decode()
    assert f'<a href="{link}"' in page
    assert "Connecting" in page


async def test_robots_txt_keeps_the_sync_out_of_disallowed_pages(site):
    _handbook(site)
    site.put("/robots.txt", "User-agent: *\nDisallow: /docs/vpn/\n", content_type="text/plain")

    await _sync(site)

    assert await _paths() == ["/docs/setup/"]
    assert site.requested("/docs/vpn/") == []


async def test_a_crawl_stays_in_the_start_pages_folder_and_follows_links_of_unchanged_pages(site):
    site.put("/docs/", docs_site.html("Home", links=("guide/", "/blog/news/", "https://x.test/")))
    site.put("/docs/guide/", docs_site.html("Guide", links=("deep/", "latin/")))
    site.put("/docs/guide/deep/", docs_site.html("Deep", sections={"Details": "Deep text."}))
    site.put("/docs/guide/latin/", "<html><body><p>Caf\xe9</p></body></html>".encode("latin-1"))
    site.put("/blog/news/", docs_site.html("News"))

    first = await _sync(site, "/docs/")
    second = await _sync(site, "/docs/")

    assert first.report is not None
    assert [failure.path for failure in first.report.failures] == ["/docs/guide/latin/"]

    assert await _paths() == ["/docs/", "/docs/guide/", "/docs/guide/deep/"]
    assert site.requested("/blog/news/") == []
    assert second.report is not None
    assert second.report.unchanged == 3
    assert first.report is not None
    assert first.report.added == 3

    site.put("/docs/guide/", docs_site.html("Guide"))  # no longer links to deep/
    await _sync(site, "/docs/")
    assert await _paths() == ["/docs/", "/docs/guide/"]


async def test_each_failing_page_is_reported_and_keeps_its_last_good_version(site, settings):
    settings.CHATBOT_DOCS_MAX_FILE_BYTES = 5_000
    names = ["ok", "missing", "broken", "slow", "loop", "big", "latin1"]
    for name in names:
        site.put(f"/{name}/", docs_site.html(name.title(), sections={"Body": f"Good {name}."}))
    site.put(
        "/sitemap.xml",
        docs_site.sitemap([site.url(f"/{name}/") for name in names]),
        content_type="application/xml",
    )
    await _sync(site)
    site.put("/ok/", docs_site.html("Ok", sections={"Body": "Better ok."}))
    site.put("/missing/", b"gone", status=404)
    site.put("/broken/", b"oops", status=503)
    site.put("/slow/", docs_site.html("Slow"), delay=2.0)
    site.put("/loop/", b"", redirect_to="/loop/")
    site.put("/big/", docs_site.html("Big", sections={"Body": "x" * 10_000}))
    site.put("/latin1/", "<html><body><h1>Caf\xe9</h1></body></html>".encode("latin-1"))

    result = await _sync(site)

    assert result.outcome == Outcome.PARTIAL
    assert result.report is not None
    reasons = {failure.path: failure.reason for failure in result.report.failures}
    assert reasons["/missing/"] == "not found (404)"
    assert reasons["/broken/"] == "server error (503)"
    assert reasons["/slow/"].startswith("timed out")
    assert reasons["/loop/"].startswith("redirect loop")
    assert reasons["/big/"].startswith("too large")
    assert reasons["/latin1/"].startswith("not UTF-8 text")
    assert "Better ok." in " ".join(await _texts("/ok/"))
    for name in names[1:]:
        assert f"Good {name}." in " ".join(await _texts(f"/{name}/"))
    source = await models.DocumentationSource.objects.aget(name="site")
    assert source.last_sync_outcome == Outcome.PARTIAL
    assert {error["path"] for error in source.last_sync_errors} == set(reasons)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_a_site_that_cannot_be_reached_changes_nothing(site):
    _handbook(site)
    await _sync(site)
    site.put("/sitemap.xml", b"down for maintenance", status=503)

    down = await _sync(site)

    assert down.outcome == Outcome.FAILED
    assert "sitemap" in down.error
    assert "503" in down.error
    assert await _paths() == ["/docs/setup/", "/docs/vpn/"]

    await models.DocumentationSource.objects.filter(name="site").aupdate(
        location=f"http://127.0.0.1:{_closed_port()}/sitemap.xml"
    )
    source = await models.DocumentationSource.objects.aget(name="site")
    unreachable = await sources.sync(source_id=source.pk)
    assert unreachable.outcome == Outcome.FAILED
    assert "unreachable" in unreachable.error
    assert await _paths() == ["/docs/setup/", "/docs/vpn/"]
    source = await models.DocumentationSource.objects.aget(name="site")
    assert source.last_sync_outcome == Outcome.FAILED
    assert source.last_sync_errors[0]["path"] == ""


def test_ingest_docs_syncs_a_site_from_its_url_and_reports_an_unreachable_one(site):
    _handbook(site)
    out = io.StringIO()

    call_command(
        "ingest_docs",
        site.url("/sitemap.xml"),
        "--source",
        "site",
        "--schedule",
        "0 * * * *",
        stdout=out,
        stderr=io.StringIO(),
    )

    assert out.getvalue().startswith("2 added, 0 updated, 0 unchanged, 0 removed, 0 failed")
    source = models.DocumentationSource.objects.get(name="site")
    assert (source.kind, source.schedule) == (models.DocumentationSource.Kind.WEB, "0 * * * *")
    assert source.next_sync_at is not None

    site.put("/sitemap.xml", b"", status=500)
    failed = io.StringIO()
    with pytest.raises(CommandError, match=r"was not synced: sitemap .* server error \(500\)"):
        call_command(
            "ingest_docs",
            site.url("/sitemap.xml"),
            "--source",
            "site",
            stdout=failed,
            stderr=io.StringIO(),
        )
    assert failed.getvalue().startswith("not synced, nothing changed")
    assert models.Document.objects.filter(source=source).count() == 2

    with pytest.raises(CommandError, match="is a web site source"):
        call_command("ingest_docs", "--git", "/nowhere", "--source", "site", stdout=io.StringIO())
    with pytest.raises(CommandError, match="is a web site source, not a folder"):
        call_command("ingest_docs", "/tmp", "--source", "site", stdout=io.StringIO())
