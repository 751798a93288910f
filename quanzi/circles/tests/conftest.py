"""Circle fixtures: an approved owner, labels, circles made through the service, and a
photo to post notes with."""

from __future__ import annotations

import io

import pytest


@pytest.fixture
def circle_owner(make_user):
    from quanzi.circles.services import owner_apply, owner_decide

    owner = make_user(nickname="群主")
    owner_apply(user=owner, intro="宝妈一枚")
    owner_decide(user_id=owner.pk, approve=True)
    return owner


@pytest.fixture
def labels(db):
    from quanzi.circles.services import label_create

    return {name: label_create(name=name) for name in ("母婴", "户外", "读书")}


@pytest.fixture
def make_circle(circle_owner, labels):
    from quanzi.circles.services import circle_create

    def make(*, owner=None, label="母婴", **fields):
        fields.setdefault("name", "宝妈互助圈")
        return circle_create(owner=owner or circle_owner, label_ids=[labels[label].pk], **fields)

    return make


@pytest.fixture
def photo(settings, tmp_path):
    """``photo(user)`` uploads a small JPEG and returns its media id."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    from quanzi.content.media import media_upload

    settings.MEDIA_ROOT = tmp_path / "media"

    def upload(user) -> int:
        jpeg = io.BytesIO()
        Image.new("RGB", (64, 48), (30, 160, 90)).save(jpeg, "JPEG")
        upload = SimpleUploadedFile("a.jpg", jpeg.getvalue(), content_type="image/jpeg")
        return media_upload(owner=user, upload=upload).pk

    return upload


@pytest.fixture
def dist_settings(db):
    from quanzi.core.platform_settings import settings_update

    def apply(**fields):
        return settings_update(patch={"distribution": fields})

    return apply


from quanzi.storefront.tests.browser import browser, new_phone  # noqa: E402, F401 - fixtures
