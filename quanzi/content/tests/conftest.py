"""Content fixtures: real images (made with Pillow), uploads through the API, notes."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from quanzi.distribution.tests.conftest import (  # noqa: F401 - fixtures
    dist_settings,
    pay,
    people,
)


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def image_bytes(fmt: str = "JPEG", size=(64, 48), color=(200, 30, 30), exif=None) -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", size, color)
    kwargs = {"exif": exif} if exif is not None else {}
    image.save(out, fmt, **kwargs)
    return out.getvalue()


def upload(user, data: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg"):
    return user.api.client.post(
        "/api/v1/media",
        {"file": SimpleUploadedFile(name, data, content_type=content_type)},
        headers={"Authorization": f"Bearer {user.api.token}"},
    )


@pytest.fixture
def photo(db):
    """``photo(user)`` uploads a small JPEG as ``user`` and returns its media id."""

    def make(user, **kwargs) -> int:
        response = upload(user, image_bytes(**kwargs))
        assert response.status_code == 201, response.content
        return response.json()["id"]

    return make


@pytest.fixture
def post_note(photo):
    """``post_note(user, title=..., products=[...])`` publishes a note through the API."""

    def make(user, *, title="好物分享", body="", products=(), images=1, publish=True, **extra):
        response = user.api.post(
            "/notes",
            {
                "title": title,
                "body": body,
                "media_ids": [photo(user) for _ in range(images)],
                "product_ids": [p.pk for p in products],
                "publish": publish,
                **extra,
            },
        )
        assert response.status_code == 201, response.content
        return response.json()

    return make


from quanzi.storefront.tests.browser import browser, new_phone  # noqa: E402, F401 - fixtures
