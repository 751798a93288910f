"""The media service: every image people upload (notes, reviews, avatars) comes in here.

* The type is sniffed from the bytes, never from the file name or the browser's
  ``Content-Type``: JPEG, PNG and WebP only (``415 unsupported_media_type``).
* Limits: ``QUANZI_MEDIA_MAX_BYTES`` per file (``413 file_too_large``) and
  ``QUANZI_MEDIA_MAX_PIXELS`` per image, read from the header before any pixel is
  decoded, so a small file that would decompress into gigabytes (a "zip bomb" image) is
  refused (``422 image_too_large``). A file Pillow cannot decode is ``422 invalid_image``.
* The image is re-encoded from its pixels after applying its EXIF orientation: EXIF
  (camera, GPS location), ICC text chunks and comments are dropped.
* A thumbnail (at most ``THUMB_SIZE`` px on the long side, JPEG) is made alongside.
* Both go through Django's storage API (``default_storage``): the filesystem under
  ``MEDIA_ROOT`` by default, an S3-compatible bucket when configured (docs/content.md).
"""

from __future__ import annotations

import io
import uuid
import warnings

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image, ImageOps, UnidentifiedImageError

from quanzi.core.errors import Invalid, QuanziError
from quanzi.core.logging import get_logger

from .models import Media

log = get_logger("quanzi.content.media")

THUMB_SIZE = 480

# Pillow's format name, MIME type and file extension for each accepted type.
_TYPES = {
    "jpeg": ("JPEG", "image/jpeg", "jpg"),
    "png": ("PNG", "image/png", "png"),
    "webp": ("WEBP", "image/webp", "webp"),
}


class FileTooLarge(QuanziError):
    status = 413
    code = "file_too_large"


class UnsupportedMediaType(QuanziError):
    status = 415
    code = "unsupported_media_type"


def sniff(head: bytes) -> str | None:
    """``jpeg``, ``png``, ``webp`` from the first bytes, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def _read_limited(upload, limit: int) -> bytes:
    if getattr(upload, "size", None) is not None and upload.size > limit:
        raise FileTooLarge(message=f"at most {limit} bytes", detail={"max_bytes": limit})
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise FileTooLarge(message=f"at most {limit} bytes", detail={"max_bytes": limit})
    return data


def _decode(data: bytes, kind: str) -> Image.Image:
    max_pixels = settings.QUANZI_MEDIA_MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format != _TYPES[kind][0]:
                raise UnsupportedMediaType(message="the file is not the image it claims to be")
            width, height = image.size
            if width * height > max_pixels:
                raise Invalid(
                    "image_too_large",
                    f"at most {max_pixels} pixels",
                    {"max_pixels": max_pixels, "width": width, "height": height},
                )
            image.load()
    except QuanziError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow refuses the largest bombs itself, from the header alone.
        raise Invalid(
            "image_too_large", f"at most {max_pixels} pixels", {"max_pixels": max_pixels}
        ) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise Invalid("invalid_image", "the image cannot be read") from exc
    return image


def _encode(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG":
        if image.mode not in ("RGB", "L"):
            image = _flatten(image)
        image.save(out, "JPEG", quality=88, optimize=True)
    elif fmt == "PNG":
        image.save(out, "PNG", optimize=True)
    else:
        image.save(out, "WEBP", quality=85)
    return out.getvalue()


def _flatten(image: Image.Image) -> Image.Image:
    """RGB on a white background (JPEG has no transparency)."""
    rgba = image.convert("RGBA")
    background = Image.new("RGB", rgba.size, (255, 255, 255))
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background


def media_upload(*, owner, upload) -> Media:
    """Validate, clean, thumbnail and store one uploaded image."""
    if upload is None:
        raise Invalid("file_missing", "send the image as multipart field 'file'")
    data = _read_limited(upload, settings.QUANZI_MEDIA_MAX_BYTES)
    kind = sniff(data[:16])
    if kind is None:
        raise UnsupportedMediaType(
            message="only JPEG, PNG and WebP images are accepted",
            detail={"accepted": ["image/jpeg", "image/png", "image/webp"]},
        )
    image = _decode(data, kind)
    fmt, content_type, ext = _TYPES[kind]
    # Turn the pixels the camera said to turn, then forget everything else it said.
    image = ImageOps.exif_transpose(image)
    if image.mode not in ("RGB", "RGBA", "L", "LA", "P"):
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    clean = _encode(image, fmt)
    thumb = image.copy()
    thumb.thumbnail((THUMB_SIZE, THUMB_SIZE))
    thumb_bytes = _encode(thumb, "JPEG")
    stem = f"content/{timezone.now():%Y/%m}/{uuid.uuid4().hex}"
    path = default_storage.save(f"{stem}.{ext}", ContentFile(clean))
    thumb_path = default_storage.save(f"{stem}_thumb.jpg", ContentFile(thumb_bytes))
    media = Media.objects.create(
        owner=owner,
        path=path,
        thumb_path=thumb_path,
        content_type=content_type,
        width=image.width,
        height=image.height,
        size=len(clean),
    )
    log.info("media stored", extra={"media_id": media.pk, "owner_id": owner.pk, "type": kind})
    return media


def media_url(path: str) -> str:
    return default_storage.url(path) if path else ""


def media_out(media: Media) -> dict:
    return {
        "id": media.pk,
        "url": media_url(media.path),
        "thumb_url": media_url(media.thumb_path),
        "width": media.width,
        "height": media.height,
    }


def media_owned(*, owner, media_ids: list[int], limit: int) -> list[Media]:
    """The caller's own uploads, in the order given (``422 invalid_media`` otherwise)."""
    ids = list(dict.fromkeys(media_ids))
    if len(ids) > limit:
        raise Invalid("too_many_images", f"at most {limit} images", {"max": limit})
    found = {m.pk: m for m in Media.objects.filter(pk__in=ids, owner=owner)}
    missing = [i for i in ids if i not in found]
    if missing:
        raise Invalid("invalid_media", "use images you uploaded", {"media_ids": missing})
    return [found[i] for i in ids]
