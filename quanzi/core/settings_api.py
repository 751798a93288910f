from __future__ import annotations

from typing import Any

from ninja import Body, Router

from quanzi.core.auth import require_operator
from quanzi.core.platform_settings import get_settings, settings_update
from quanzi.core.schemas import ErrorOut

router = Router(tags=["operator settings"])


@router.get("/admin/settings", response={200: dict[str, Any], 403: ErrorOut})
def settings_read(request):
    require_operator(request)
    return get_settings().model_dump(context={"mask_secrets": True})


@router.put("/admin/settings", response={200: dict[str, Any], 403: ErrorOut, 422: ErrorOut})
def settings_write(request, payload: dict[str, Any] = Body(...)):
    require_operator(request)
    return settings_update(patch=payload).model_dump(context={"mask_secrets": True})
