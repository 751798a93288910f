"""Share posters (分享海报): a PNG drawn on the server with Pillow and ``qrcode``.

The poster shows the product image, its price, the sharer's avatar and nickname, and a
QR code of the share link. Chinese text needs a CJK font: the first one found of
``QUANZI_FONT`` and the usual Debian paths (fonts-wqy-microhei, fonts-noto-cjk,
fonts-wqy-zenhei); without one, Pillow's built-in font draws what it can.
"""

from __future__ import annotations

import io
import os
from functools import lru_cache
from pathlib import Path

import qrcode
from django.conf import settings
from django.contrib.staticfiles import finders
from PIL import Image, ImageDraw, ImageFont, ImageOps

from quanzi.core.money import yuan

FONT_CANDIDATES = [
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
]

WIDTH, HEIGHT = 750, 1200
RED = (224, 46, 36)
DARK = (34, 34, 34)
GREY = (102, 102, 102)
AVATAR_COLOURS = [(194, 65, 12), (185, 28, 28), (15, 118, 110), (29, 78, 216), (126, 34, 206)]


@lru_cache(maxsize=1)
def font_path() -> str | None:
    """The CJK font the posters use, or None (Pillow's default font)."""
    configured = os.environ.get("QUANZI_FONT", "")
    for candidate in [configured, *FONT_CANDIDATES]:
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def font(size: int):
    path = font_path()
    if path:
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            pass
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # very old Pillow: a fixed-size bitmap font
        return ImageFont.load_default()


def local_image(url: str) -> Image.Image | None:
    """Open an image this server serves itself (static or media); never fetch remote ones."""
    if not url or not url.startswith("/") or url.startswith("//") or ".." in url:
        return None
    path: str | None = None
    if url.startswith(settings.STATIC_URL):
        path = finders.find(url[len(settings.STATIC_URL) :])
        if path is None:
            candidate = Path(settings.STATIC_ROOT) / url[len(settings.STATIC_URL) :]
            path = str(candidate) if candidate.is_file() else None
    elif url.startswith(settings.MEDIA_URL):
        candidate = Path(settings.MEDIA_ROOT) / url[len(settings.MEDIA_URL) :]
        path = str(candidate) if candidate.is_file() else None
    if not path:
        return None
    try:
        with Image.open(path) as image:
            return image.convert("RGB")
    except OSError:
        return None


def _wrap(draw: ImageDraw.ImageDraw, text: str, fnt, width: int, max_lines: int) -> list[str]:
    lines, current = [], ""
    for char in text:
        if draw.textlength(current + char, font=fnt) > width:
            lines.append(current)
            current = char
            if len(lines) == max_lines:
                break
        else:
            current += char
    else:
        if current:
            lines.append(current)
        return lines
    last = lines[-1]
    while last and draw.textlength(last + "…", font=fnt) > width:
        last = last[:-1]
    lines[-1] = last + "…"
    return lines


def _avatar(nickname: str, picture: str, size: int) -> Image.Image:
    image = local_image(picture) if picture else None
    if image is not None:
        image = ImageOps.fit(image, (size, size))
    else:
        colour = AVATAR_COLOURS[sum(map(ord, nickname or "?")) % len(AVATAR_COLOURS)]
        image = Image.new("RGB", (size, size), colour)
        draw = ImageDraw.Draw(image)
        fnt = font(size // 2)
        draw.text((size / 2, size / 2), (nickname or "?")[:1], fill="white", font=fnt, anchor="mm")
    mask = Image.new("L", (size, size), 0)
    ImageDraw.Draw(mask).ellipse((0, 0, size - 1, size - 1), fill=255)
    image.putalpha(mask)
    return image


def qr_image(data: str, size: int) -> Image.Image:
    code = qrcode.QRCode(border=1, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(data)
    code.make(fit=True)
    image = code.make_image(fill_color="black", back_color="white").get_image().convert("RGB")
    return image.resize((size, size), Image.NEAREST)


def _code(data: bytes | None, size: int) -> Image.Image | None:
    """The mini-program code's image, or None when there is none or it does not open."""
    if not data:
        return None
    try:
        with Image.open(io.BytesIO(data)) as opened:
            return opened.convert("RGB").resize((size, size), Image.LANCZOS)
    except (OSError, ValueError):
        return None


def poster_render(
    *,
    title: str,
    price: int,
    image_url: str,
    sharer_nickname: str,
    sharer_avatar: str,
    link: str,
    texts: dict[str, str],
    original_price: int | None = None,
    code_image: bytes | None = None,
) -> bytes:
    """Draw the poster and return PNG bytes. ``texts`` holds the translated captions:
    ``recommends``, ``price_label``, ``scan``, ``scan_hint``, ``shop``. ``code_image``:
    a mini-program code to print instead of the link's QR code."""
    canvas = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(canvas)

    # The sharer: avatar, nickname, "recommends this to you".
    avatar = _avatar(sharer_nickname, sharer_avatar, 88)
    canvas.paste(avatar, (40, 36), avatar)
    draw.text((148, 44), sharer_nickname[:16], fill=DARK, font=font(32))
    draw.text((148, 90), texts["recommends"], fill=GREY, font=font(26))

    # The product image, cropped to a square.
    picture = local_image(image_url)
    box = (40, 160, WIDTH - 40, 160 + WIDTH - 80)
    if picture is not None:
        canvas.paste(ImageOps.fit(picture, (box[2] - box[0], box[3] - box[1])), box[:2])
    else:
        draw.rectangle(box, fill=(245, 245, 245))
        draw.text(
            ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2),
            texts["shop"],
            fill=GREY,
            font=font(40),
            anchor="mm",
        )

    # Price and title.
    y = box[3] + 28
    draw.text((40, y + 8), texts["price_label"], fill=RED, font=font(28))
    label_w = draw.textlength(texts["price_label"], font=font(28))
    whole, _, cents = yuan(price).partition(".")
    x = 40 + label_w + 10
    draw.text((x, y + 8), "¥", fill=RED, font=font(34))
    x += draw.textlength("¥", font=font(34)) + 2
    draw.text((x, y - 10), whole, fill=RED, font=font(60))
    x += draw.textlength(whole, font=font(60))
    draw.text((x, y + 8), "." + cents, fill=RED, font=font(34))
    x += draw.textlength("." + cents, font=font(34)) + 16
    if original_price and original_price > price:
        text = "¥" + yuan(original_price)
        draw.text((x, y + 14), text, fill=GREY, font=font(26))
        width = draw.textlength(text, font=font(26))
        draw.line((x, y + 30, x + width, y + 30), fill=GREY, width=2)
    title_font = font(32)
    for i, line in enumerate(_wrap(draw, title, title_font, 430, 3)):
        draw.text((40, y + 84 + i * 44), line, fill=DARK, font=title_font)

    # The QR code of the share link, its caption below it, the hint at the bottom left.
    qr_size = 200
    qr_x, qr_y = WIDTH - 40 - qr_size, y + 84
    canvas.paste(_code(code_image, qr_size) or qr_image(link, qr_size), (qr_x, qr_y))
    draw.text(
        (qr_x + qr_size / 2, qr_y + qr_size + 22),
        texts["scan"],
        fill=GREY,
        font=font(22),
        anchor="mm",
    )
    hint_font = font(22)
    for i, line in enumerate(_wrap(draw, texts["scan_hint"], hint_font, 420, 2)):
        draw.text((40, HEIGHT - 96 + i * 32), line, fill=GREY, font=hint_font)

    out = io.BytesIO()
    canvas.save(out, format="PNG", optimize=True)
    return out.getvalue()
