"""``?lang=en`` switches the language for the request and remembers it in the session."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation

_SUPPORTED = {code for code, _ in settings.LANGUAGES}


class LanguageQueryMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        lang = request.GET.get("lang")
        if lang:
            lang = lang.lower()
            if lang in {"zh", "zh-cn"}:
                lang = "zh-hans"
            if lang in _SUPPORTED:
                translation.activate(lang)
                request.LANGUAGE_CODE = lang
                if hasattr(request, "session"):
                    request.session["quanzi_lang"] = lang
        elif hasattr(request, "session") and request.session.get("quanzi_lang") in _SUPPORTED:
            translation.activate(request.session["quanzi_lang"])
            request.LANGUAGE_CODE = request.session["quanzi_lang"]
        return self.get_response(request)
