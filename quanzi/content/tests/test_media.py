"""The media service: type from the bytes, limits, EXIF gone, thumbnails, clear 4xx."""

from __future__ import annotations

import io
import struct
import zlib

from django.core.files.storage import default_storage
from PIL import Image

from quanzi.content.models import Media
from quanzi.content.tests.conftest import image_bytes, upload

GPS_IFD = 0x8825


def _exif_with_location() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0112] = 6  # Orientation: rotate 90° to display
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (30.0, 15.0, 0.0), 3: "E", 4: (120.0, 10.0, 0.0)})
    return exif.tobytes()


def test_a_jpeg_is_stored_without_its_location_and_with_a_thumbnail(customer):
    data = image_bytes("JPEG", size=(800, 600), exif=_exif_with_location())
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(GPS_IFD)  # the camera's GPS is there

    response = upload(customer, data)

    assert response.status_code == 201, response.content
    body = response.json()
    media = Media.objects.get(pk=body["id"])
    stored = Image.open(default_storage.open(media.path))
    assert stored.format == "JPEG"
    assert not stored.getexif()  # no camera, no location, no orientation left
    # The orientation was applied to the pixels before it was dropped.
    assert (body["width"], body["height"]) == (600, 800) == stored.size
    thumb = Image.open(default_storage.open(media.thumb_path))
    assert max(thumb.size) <= 480 and thumb.size[0] < thumb.size[1]
    assert body["url"].startswith("/media/content/") and body["thumb_url"].endswith("_thumb.jpg")


def test_a_png_renamed_jpg_is_taken_for_what_its_bytes_are(customer):
    response = upload(customer, image_bytes("PNG"), name="holiday.jpg", content_type="image/jpeg")

    assert response.status_code == 201, response.content
    media = Media.objects.get(pk=response.json()["id"])
    assert media.content_type == "image/png" and media.path.endswith(".png")
    assert Image.open(default_storage.open(media.path)).format == "PNG"


def test_webp_is_accepted(customer):
    response = upload(customer, image_bytes("WEBP"), name="a.webp", content_type="image/webp")
    assert response.status_code == 201, response.content
    assert Media.objects.get(pk=response.json()["id"]).content_type == "image/webp"


def test_a_text_file_with_an_image_name_is_refused(customer):
    response = upload(customer, b"just some text, not a picture\n" * 10, name="cat.jpg")

    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"
    assert not Media.objects.exists()


def test_a_gif_is_not_accepted(customer):
    response = upload(customer, image_bytes("GIF"), name="a.gif", content_type="image/gif")
    assert response.status_code == 415


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge image (a decompression bomb's shape)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grey
    rows = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )


def test_a_bomb_sized_image_is_refused_before_it_is_decoded(customer):
    data = _png_claiming(30_000, 30_000)  # 900 megapixels in a few dozen bytes
    assert len(data) < 200

    response = upload(customer, data, name="bomb.png", content_type="image/png")

    assert response.status_code == 422
    assert response.json()["code"] == "image_too_large"
    assert not Media.objects.exists()


def test_an_image_just_over_the_pixel_limit_is_refused(customer, settings):
    settings.QUANZI_MEDIA_MAX_PIXELS = 100 * 100
    assert upload(customer, image_bytes("PNG", size=(100, 100))).status_code == 201

    response = upload(customer, image_bytes("PNG", size=(101, 100)))

    assert response.status_code == 422
    assert response.json()["detail"] == {"max_pixels": 10_000, "width": 101, "height": 100}


def test_a_file_over_the_size_limit_is_refused(customer, settings):
    settings.QUANZI_MEDIA_MAX_BYTES = 1000
    response = upload(customer, image_bytes("PNG", size=(300, 300), color=(1, 2, 3)) + b"\0" * 2000)
    assert response.status_code == 413
    assert response.json()["code"] == "file_too_large"


def test_a_truncated_image_is_a_clear_422(customer):
    data = image_bytes("JPEG", size=(400, 400))
    response = upload(customer, data[: len(data) // 3])
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_image"


def test_an_upload_without_a_file_and_without_login(customer, anon):
    response = customer.api.client.post(
        "/api/v1/media", {}, headers={"Authorization": f"Bearer {customer.api.token}"}
    )
    assert response.status_code == 422
    assert response.json()["code"] == "file_missing"
    assert anon.client.post("/api/v1/media", {}).status_code == 401


def test_an_upload_becomes_the_avatar_but_not_someone_elses(customer, make_user, photo):
    mine = photo(customer)
    response = customer.api.put("/me/avatar", {"media_id": mine})
    assert response.status_code == 200 and response.json()["avatar"].endswith("_thumb.jpg")
    assert (
        make_user().api.get(f"/users/{customer.pk}/profile").json()["avatar"]
        == response.json()["avatar"]
    )

    theirs = photo(make_user())
    assert customer.api.put("/me/avatar", {"media_id": theirs}).status_code == 422
