"""The async front's application (``quanzi front``, served by uvicorn): the fast paths
feature apps register with ``fastpaths.register_async`` answered on an event loop,
every other request handed to the ``quanzi serve`` instances at ``QUANZI_FRONT_UPSTREAM``
(``quanzi.core.front``)."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quanzi.settings")
django.setup()

import threading  # noqa: E402

from django.conf import settings  # noqa: E402 - after the settings are loaded

from quanzi.core.front import application_for  # noqa: E402
from quanzi.core.server import warm_up  # noqa: E402

# uvicorn imports this module on its event loop, where Django refuses to touch a
# database connection: the warm-up (which closes them) runs on a thread of its own.
_warming = threading.Thread(target=warm_up, name="warm-up")
_warming.start()
_warming.join()
application = application_for(settings.FRONT_UPSTREAM)
