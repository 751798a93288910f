"""Uploaded files (product images) for the embedded mode; a production proxy serves
``MEDIA_ROOT`` itself and never reaches this view."""

from __future__ import annotations

from django.conf import settings
from django.views.static import serve


def media(request, path: str):
    response = serve(request, path, document_root=settings.MEDIA_ROOT)
    response["Cache-Control"] = "public, max-age=86400"
    response["X-Content-Type-Options"] = "nosniff"
    return response
