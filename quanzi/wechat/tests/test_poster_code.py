"""Share posters carry the mini-program code whose scene is the share token (drawn once
per share), and the link's QR code when there is no mini-program or WeChat fails."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from PIL import Image

from quanzi.social.models import ShareLink
from quanzi.wechat.models import ShareCode
from quanzi.wechat.tests.standin import CODE_GREEN

pytestmark = pytest.mark.django_db


def _poster(user, product) -> Image.Image:
    client = Client()
    client.force_login(user)
    response = client.get(f"/poster/p/{product.pk}.png")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    return Image.open(io.BytesIO(response.content)).convert("RGB")


def _green(image: Image.Image) -> int:
    counts = {color: count for count, color in image.getcolors(maxcolors=1 << 24)}
    return counts.get(CODE_GREEN, 0)


def test_the_poster_carries_the_mini_program_code_of_the_share(wx, make_user, make_product):
    user, product = make_user(), make_product()
    poster = _poster(user, product)
    assert _green(poster) > 150 * 150  # the code square, where the QR code was
    token = ShareLink.objects.get(sharer=user, channel="poster").token
    asked = [body for path, _, body in wx.state.log if path == "/wxa/getwxacodeunlimit"]
    assert asked == [{"scene": token, "check_path": False, "width": 280}]
    assert ShareCode.objects.get().share_token == token
    other_product = make_product(title="另一件")
    _poster(user, other_product)
    assert wx.state.calls["/wxa/getwxacodeunlimit"] == 2  # one per share
    from django.core.cache import cache

    cache.clear()  # the poster itself is cached: draw it again
    _poster(user, product)
    assert wx.state.calls["/wxa/getwxacodeunlimit"] == 2  # the kept code


def test_without_a_mini_program_or_when_wechat_fails_the_qr_code_stays(
    wx, settings, make_user, make_product
):
    wx.fail("/wxa/getwxacodeunlimit", 45009)
    assert _green(_poster(make_user(), make_product())) == 0
    settings.QUANZI_WECHAT_MINI_APPID = ""
    assert _green(_poster(make_user(), make_product())) == 0
    assert not ShareCode.objects.exists()
