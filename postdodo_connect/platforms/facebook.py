"""Facebook Pages through the Graph API: feed posts and photo posts."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from .base import Account, Profile, Published, PublishRequest
from .meta import MetaLogin
from .reconcile import seed_digits


class Facebook(MetaLogin):
    """A Facebook Page: text to /feed, one photo to /photos, several as unpublished photos + /feed."""

    name: ClassVar[str] = "facebook"
    label: ClassVar[str] = "Facebook Page"
    max_caption: ClassVar[int] = 63206
    # the reference documents photos only (videos go through a separate upload API)
    media_kinds: ClassVar[frozenset[str]] = frozenset({"image"})
    max_media: ClassVar[int] = 10  # no documented cap for attached_media; 10 keeps it like a carousel
    can_delete: ClassVar[bool] = True
    has_first_comment: ClassVar[bool] = True
    has_lookup: ClassVar[bool] = True
    credential_fields: ClassVar[tuple[str, ...]] = ("access_token", "page_id")
    #: Facebook Login offers the Pages and, from the same grant, their Instagram business accounts
    connect_kinds: ClassVar[frozenset[str]] = frozenset({"page", "instagram_business"})

    def permalink(self, handle: str, post_id: str) -> str:
        """/<page_id>/posts/<suffix> from a `<page_id>_<suffix>` post id."""
        page, _, suffix = post_id.rpartition("_")
        return f"https://www.facebook.com/{page or handle}/posts/{suffix}"

    def sample_post_id(self, seed: str) -> str:
        """A `<page_id>_<post_id>` feed id like 546349135390552_1116689038356556."""
        return f"{seed_digits('page:' + seed, 15)}_{seed_digits(seed, 16)}"

    def ids(self, credentials: dict[str, Any]) -> tuple[str, str]:
        """(Page token, page id) from an account's credentials."""
        return self.credential(credentials, "access_token"), self.credential(credentials, "page_id")

    def verify_credentials(self, credentials: dict[str, Any]) -> Profile:
        """Read the Page the token manages."""
        token, page_id = self.ids(credentials)
        page = self.graph(token, "GET", page_id, {"fields": "id,name,username"})
        return Profile(handle=str(page.get("username") or page_id), display_name=str(page.get("name") or ""))

    def comment(self, account: Account, platform_post_id: str, text: str) -> Published:
        """POST /{post-id}/comments as the Page."""
        token, _ = self.ids(account.credentials)
        answer = self.graph(token, "POST", f"{platform_post_id}/comments", {"message": text})
        return Published(platform_post_id=str(answer["id"]), permalink="")

    def delete(self, account: Account, platform_post_id: str) -> None:
        """DELETE /{post-id} with the Page token."""
        token, _ = self.ids(account.credentials)
        self.graph_delete(token, platform_post_id)

    def publish(self, account: Account, request: PublishRequest) -> Published:
        """One create call; the feed call reads the permalink back in the same answer."""
        token, page_id = self.ids(account.credentials)
        if len(request.media) == 1:
            self.calling(request)
            photo = self.graph(token, "POST", f"{page_id}/photos", {"url": request.media[0].url, "caption": request.caption}, creates=True)
            post_id = str(photo.get("post_id") or photo["id"])  # `id` is the photo, `post_id` the feed post
            fallback = self.permalink(page_id, post_id)
            return Published(platform_post_id=post_id, permalink=self.permalink_field(token, post_id, "permalink_url", fallback))
        params: dict[str, Any] = {"message": request.caption, "fields": "id,permalink_url"}
        if request.media:
            # unpublished photos stay invisible, so uploading them again on a retry posts nothing twice
            photo_ids = [self.graph(token, "POST", f"{page_id}/photos", {"url": item.url, "published": "false"})["id"] for item in request.media]
            params["attached_media"] = json.dumps([{"media_fbid": str(photo_id)} for photo_id in photo_ids])
        self.calling(request)
        post = self.graph(token, "POST", f"{page_id}/feed", params, creates=True)
        post_id = str(post["id"])
        return Published(platform_post_id=post_id, permalink=str(post.get("permalink_url") or self.permalink(page_id, post_id)))

    def lookup(self, account: Account, request: PublishRequest) -> Published | None:
        """The Page's recent posts carrying this message."""
        token, page_id = self.ids(account.credentials)
        fields = "id,message,created_time,permalink_url"
        post = self.find_recent(token, f"{page_id}/posts", fields, "message", "created_time", request)
        if post is None:
            return None
        post_id = str(post["id"])
        return Published(platform_post_id=post_id, permalink=str(post.get("permalink_url") or self.permalink(page_id, post_id)))
