import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quanzi.settings")

from quanzi.core.fastpaths import wrap  # noqa: E402 - after the settings module is named
from quanzi.core.server import limit_request_line  # noqa: E402

# The fast paths feature apps register (the flash gate's request) answer in front of
# Django; every other request, and any they do not answer, is Django's. A request line
# over 8,190 bytes is answered 414 before either, whatever server runs this.
application = limit_request_line(wrap(get_wsgi_application()))
