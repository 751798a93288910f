import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quanzi.settings")

from quanzi.core.fastpaths import wrap  # noqa: E402 - after the settings module is named

# The fast paths feature apps register (the flash gate's request) answer in front of
# Django; every other request, and any they do not answer, is Django's.
application = wrap(get_wsgi_application())
