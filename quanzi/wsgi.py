import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quanzi.settings")

from quanzi.core.fastpaths import wrap  # noqa: E402 - after the settings module is named
from quanzi.core.server import limit_request_line  # noqa: E402

# The fast paths feature apps register (the flash gate's request) answer in front of
# Django; every other request, and any they do not answer, is Django's, unless its
# request line is over 8,190 bytes (414, whatever server runs this; a fast path's
# request, one short path and no query, never is).
application = wrap(limit_request_line(get_wsgi_application()))
