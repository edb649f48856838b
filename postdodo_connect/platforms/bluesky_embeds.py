"""Bluesky embeds beyond images: a link card from a page's Open Graph tags, and video through the video service."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from . import media as media_fetch
from .base import Account, Media, PlatformAuthError, PlatformError, PlatformRejected, PublishRequest, error_body
from .text import url_spans

if TYPE_CHECKING:
    from .bluesky import Bluesky

#: seconds an uploaded blob is reused by a later attempt (unreferenced blobs are garbage-collected)
BLOB_REUSE = 3600.0
#: the video service the app uploads to; it processes the video, then stores it on the account's PDS
VIDEO_SERVICE = "https://video.bsky.app"
#: the service gives a state and a progress but no "check again in": the app checks about every second
VIDEO_CHECK_AFTER = 5.0
#: seconds the service token may be used (the docs recommend 30 minutes for a long upload)
SERVICE_TOKEN_LIFE = 1800
#: a page read for its card: its head is enough, and no page needs more than this
PAGE_MAX_BYTES = 1_000_000
PAGE_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_OG_KEYS = ("og:title", "og:description", "og:image")


class _OpenGraph(HTMLParser):
    """Collects the first og:title/og:description/og:image and the <title> of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: dict[str, str] = {}
        self.title: list[str] = []
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Meta tags carry the card; the <title> is the fallback title."""
        values = dict(attrs)
        key = (values.get("property") or values.get("name") or "").lower()
        if tag == "meta" and key in _OG_KEYS and key not in self.found and (values.get("content") or "").strip():
            self.found[key] = str(values["content"]).strip()
        if tag == "title":
            self._in_title = True

    def handle_endtag(self, tag: str) -> None:
        """A title ends with its tag."""
        if tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        """Text inside <title>."""
        if self._in_title:
            self.title.append(data)


def card_link(caption: str) -> str | None:
    """The first link of a caption, as an absolute URL (a card shows one link)."""
    spans = url_spans(caption)
    if not spans:
        return None
    url = spans[0][2]
    return url if "://" in url else f"https://{url}"


def read_page(adapter: Bluesky, account: Account, url: str) -> dict[str, str]:
    """og:title, og:description and og:image (absolute) of a page fetched through the SSRF guard."""
    data, _ = media_fetch.download(url, policy=media_fetch.policy_for(account), max_bytes=PAGE_MAX_BYTES,
                                   allowed_types=PAGE_TYPES, resolver=adapter.resolver)
    parser = _OpenGraph()
    parser.feed(data.decode("utf-8", errors="replace"))
    found = dict(parser.found)
    if "og:title" not in found and (title := " ".join("".join(parser.title).split())):
        found["og:title"] = title
    if image := found.get("og:image"):
        found["og:image"] = urljoin(url, image)
    return found


def link_card(adapter: Bluesky, account: Account, creds: dict[str, Any], request: PublishRequest) -> dict[str, Any] | None:
    """An `app.bsky.embed.external` card for the caption's first link; None when there is none or the page fails."""
    if (saved := request.state.get("card")) and adapter.clock() - float(request.state.get("card_at") or 0) <= BLOB_REUSE:
        return dict(saved)  # a later attempt reuses the card and its uploaded thumbnail
    if (url := card_link(request.caption)) is None:
        return None
    try:
        page = read_page(adapter, account, url)
    except PlatformError:
        return None  # a card is a nicety: an unreachable or refused page never holds the post back
    if not page.get("og:title") and not page.get("og:description"):
        return None
    external: dict[str, Any] = {"uri": url, "title": page.get("og:title", ""), "description": page.get("og:description", "")}
    if image := page.get("og:image"):
        try:
            data, content_type = adapter.fetch_media(account, Media("image", image))
            answer = adapter._xrpc(account, creds, "POST", "com.atproto.repo.uploadBlob",
                                   data=data, headers={"Content-Type": content_type})
            external["thumb"] = answer.json()["blob"]
        except PlatformAuthError:
            raise
        except PlatformError:
            pass  # the card without its picture, as the app shows one whose image fails
    card = {"$type": "app.bsky.embed.external", "external": external}
    request.save(card=card, card_at=adapter.clock())
    return card


def video_blob(adapter: Bluesky, account: Account, creds: dict[str, Any], request: PublishRequest) -> dict[str, Any]:
    """The processed video's blob: upload to the video service once, then check its job (never waiting on it)."""
    state = request.state
    if (blobs := state.get("blobs")) and adapter.clock() - float(state.get("blobs_at") or 0) <= BLOB_REUSE:
        return dict(blobs[0])
    if job_id := state.get("video_job"):
        response = adapter.http("GET", f"{VIDEO_SERVICE}/xrpc/app.bsky.video.getJobStatus", params={"jobId": job_id})
        if response.status_code >= 300 and not _job(response).get("jobId"):
            raise adapter.classify(response)
        status = _job(response)
    else:
        status = _upload(adapter, account, creds, request)
    if blob := status.get("blob"):
        # "already_exists" answers carry the earlier blob too: whatever the state, a blob is the result
        request.save(blobs=[blob], blobs_at=adapter.clock(), video_job=None)
        return dict(blob)
    job_id, job_state = status.get("jobId"), str(status.get("state") or "")
    if job_state == "JOB_STATE_FAILED" or not job_id:
        request.save(video_job=None)  # the next attempt uploads anew
        reason = status.get("message") or status.get("error") or "processing failed"
        raise PlatformRejected(f"Bluesky could not process the video: {reason}", code="media_rejected", platform_error=status)
    request.save(video_job=job_id)
    progress = status.get("progress")
    raise adapter.processing(f"video job {job_id} is {job_state or 'queued'}" + (f" ({progress}%)" if progress is not None else ""),
                             VIDEO_CHECK_AFTER, handles={"job_id": job_id, "state": job_state, "progress": progress})


def _upload(adapter: Bluesky, account: Account, creds: dict[str, Any], request: PublishRequest) -> dict[str, Any]:
    """uploadVideo with a service token for the PDS (the service stores the result there as the account)."""
    data, content_type = adapter.fetch_media(account, request.media[0])
    session = adapter._session(account, creds)
    params = {"aud": f"did:web:{urlsplit(session['pds']).hostname}", "lxm": "com.atproto.repo.uploadBlob",
              "exp": int(adapter.clock()) + SERVICE_TOKEN_LIFE}
    token = adapter._xrpc(account, creds, "GET", "com.atproto.server.getServiceAuth", params=params).json()["token"]
    response = adapter.http("POST", f"{VIDEO_SERVICE}/xrpc/app.bsky.video.uploadVideo",
                            params={"did": session["did"], "name": f"{request.target_id}.mp4"}, data=data,
                            headers={"Authorization": f"Bearer {token}", "Content-Type": content_type})
    status = _job(response)
    if response.status_code >= 300 and not status.get("jobId"):
        error = adapter.classify(response)
        if isinstance(error, PlatformRejected) and status.get("error"):
            # e.g. "unconfirmed_email": the service's reason sits inside its job status
            raise PlatformRejected(f"Bluesky video service: {status['error']}: {status.get('message') or status['error']}",
                                   code="media_rejected", platform_error=status)
        raise error
    return status


def _job(response: Any) -> dict[str, Any]:
    """The job status of an answer: uploadVideo answers it bare, getJobStatus under `jobStatus`."""
    body = error_body(response)
    if not isinstance(body, dict):
        return {}
    job = body.get("jobStatus", body)
    return job if isinstance(job, dict) else {}

