"""Django settings for Quanzi, read from ``QUANZI_*`` environment variables.

The defaults make the embedded mode work with no configuration at all: an SQLite
file in the data directory, background jobs in-process, the sandbox gateway on.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from quanzi.core.env import env_bool, env_list, env_str, quanzi_data_dir

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = quanzi_data_dir()

PRODUCTION = env_bool("QUANZI_PRODUCTION", False)
SECRET_KEY = env_str("QUANZI_SECRET_KEY", "")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("QUANZI_SECRET_KEY is required when QUANZI_PRODUCTION=1")
    SECRET_KEY = "quanzi-embedded-insecure-key-change-me-for-production-use-only"
DEBUG = False if PRODUCTION else env_bool("QUANZI_DEBUG", False)
ALLOWED_HOSTS = env_list("QUANZI_ALLOWED_HOSTS", ["*"] if not PRODUCTION else [])
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "QUANZI_ALLOWED_HOSTS is required when QUANZI_PRODUCTION=1 (e.g. shop.example.com)"
    )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # django-ninja's own Swagger UI and ReDoc files, served from this site (no CDN).
    "ninja",
    "quanzi.core",
    "quanzi.accounts",
    "quanzi.ledger",
    "quanzi.catalog",
    "quanzi.orders",
    "quanzi.payments",
    "quanzi.notifications",
    "quanzi.social",
    "quanzi.groupbuy",
    "quanzi.distribution",
    "quanzi.membership",
    "quanzi.marketing",
    "quanzi.bargain",
    "quanzi.risk",
    "quanzi.rewards",
    "quanzi.wechat",
    "quanzi.community",
    "quanzi.content",
    "quanzi.circles",
    "quanzi.recommend",
    "quanzi.sms",
    "quanzi.analytics",
    "quanzi.flash",
    "quanzi.partners",
    "quanzi.presale",
    "quanzi.supply",
    "quanzi.storefront",
    "quanzi.dashboard",
]

MIDDLEWARE = [
    "quanzi.core.logging.RequestIdMiddleware",
    "quanzi.core.middleware.RequestEdgeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "quanzi.core.middleware.LanguageQueryMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "quanzi.risk.recording.RiskSignalMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "quanzi.urls"
WSGI_APPLICATION = "quanzi.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

_default_db = f"sqlite:///{DATA_DIR / 'quanzi.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(env_str("QUANZI_DATABASE_URL", "") or _default_db)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Writers queue on BEGIN IMMEDIATE instead of failing on lock upgrade; WAL lets
    # readers run beside the writer.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["TEST"] = (
        {"NAME": ":memory:"}
        if not os.environ.get("QUANZI_SQLITE_TEST_FILE")
        else {"NAME": os.environ["QUANZI_SQLITE_TEST_FILE"]}
    )
else:
    # Persistent connections (one per process, checked before reuse) rather than a pool in
    # each thread: `quanzi serve`'s threads each run one request at a time. Past a few hundred
    # connections, put PgBouncer (transaction pooling) in front: QUANZI_DB_PGBOUNCER=1.
    # See docs/deploy.md.
    DATABASES["default"]["CONN_MAX_AGE"] = int(env_str("QUANZI_DB_CONN_MAX_AGE", "60"))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env_bool("QUANZI_DB_PGBOUNCER", False)
    DATABASES["default"].setdefault("TEST", {})
    # Values sent beside the statement and dumped by psycopg's C adapters, rather than
    # quoted into its text in Python (5 % of a checkout's CPU, bench/README.md).
    # Statements run five times are prepared by psycopg; PgBouncer older than 1.21 in
    # transaction mode cannot keep them, so QUANZI_DB_PGBOUNCER=1 turns that off.
    DATABASES["default"].setdefault("OPTIONS", {})["server_side_binding"] = env_bool(
        "QUANZI_DB_SERVER_BINDING", True
    )
    if env_bool("QUANZI_DB_PGBOUNCER", False):
        DATABASES["default"]["OPTIONS"]["prepare_threshold"] = None

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 6},
    }
]
LOGIN_URL = "/login/"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("QUANZI_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("QUANZI_STATIC_ROOT", str(DATA_DIR / "static")))
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("QUANZI_MEDIA_ROOT", str(DATA_DIR / "media")))
# Production serves the files that ``collectstatic`` put in STATIC_ROOT, with hashed names
# (cached for ever by browsers) and pre-compressed copies; ``quanzi serve`` collects them
# when STATIC_ROOT has no manifest yet. A missing file falls back to its plain name
# instead of failing the page.
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION
WHITENOISE_MANIFEST_STRICT = False
if PRODUCTION:
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {
            "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage",
        },
    }

# Uploaded media (notes, reviews, avatars) go through Django's storage API: the
# filesystem under MEDIA_ROOT by default, any S3-compatible store (AWS S3, MinIO,
# Aliyun OSS, Tencent COS…) when QUANZI_MEDIA_S3_BUCKET is set (needs the ``s3`` extra:
# django-storages). See docs/content.md.
QUANZI_MEDIA_S3_BUCKET = env_str("QUANZI_MEDIA_S3_BUCKET", "")
if QUANZI_MEDIA_S3_BUCKET:
    STORAGES = {
        "staticfiles": {
            "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        },
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": QUANZI_MEDIA_S3_BUCKET,
                "endpoint_url": env_str("QUANZI_MEDIA_S3_ENDPOINT_URL", "") or None,
                "region_name": env_str("QUANZI_MEDIA_S3_REGION", "") or None,
                "access_key": env_str("QUANZI_MEDIA_S3_ACCESS_KEY", "") or None,
                "secret_key": env_str("QUANZI_MEDIA_S3_SECRET_KEY", "") or None,
                "custom_domain": env_str("QUANZI_MEDIA_S3_CUSTOM_DOMAIN", "") or None,
                "querystring_auth": env_bool("QUANZI_MEDIA_S3_SIGNED_URLS", False),
                "default_acl": None,
                "file_overwrite": False,
            },
        },
    }
# Upload limits: bytes per file and pixels per image (a decompression bomb is refused
# before it is decoded).
QUANZI_MEDIA_MAX_BYTES = int(env_str("QUANZI_MEDIA_MAX_BYTES", str(10 * 1024 * 1024)))
QUANZI_MEDIA_MAX_PIXELS = int(env_str("QUANZI_MEDIA_MAX_PIXELS", str(40_000_000)))

REDIS_URL = env_str("QUANZI_REDIS_URL", "")
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if REDIS_URL:
    # django-redis keeps one client per process (Django's own Redis backend builds a new
    # client for every call: twice the CPU per cache read, and the hot path reads the
    # cache on every request for the bearer token).
    CACHES = {"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": REDIS_URL}}

# Fast paths (quanzi/core/fastpaths.py): a few hot API operations (the flash gate's
# request) answered in front of Django's stack; 0 hands every request to Django.
FAST_PATHS = env_bool("QUANZI_FAST_PATHS", True)
# The async front (`quanzi front`, quanzi/core/front.py) hands what it does not answer
# to these `quanzi serve` instances (one base URL; nginx balances in front of both).
FRONT_UPSTREAM = env_str("QUANZI_FRONT_UPSTREAM", "http://127.0.0.1:8000")

# Flash sales: the prefix of the Redis gate's keys (quanzi/flash/gate.py).
FLASH_REDIS_PREFIX = env_str("QUANZI_FLASH_REDIS_PREFIX", "quanzi:flash")
# With the gate, a ticket is queued (answer 202, the order written by a writer in batches)
# rather than written by the buyer's request (docs/flash.md).
FLASH_QUEUE = env_bool("QUANZI_FLASH_QUEUE", True)
# Who writes the queued tickets: "task" (the first ticket of a burst queues a background
# task: Celery, or in-process in the embedded mode) or "follow" (long-running
# `manage.py flash_write --follow` processes poll the queues; nothing is queued per buyer).
FLASH_WRITER = env_str("QUANZI_FLASH_WRITER", "task")

# Where rate-limit counters live: "cache" (Django's cache: Redis when QUANZI_REDIS_URL is
# set), "database" (one counter row per key and window, shared by every process), or
# "auto": the cache when it is shared between processes, the database otherwise.
RATE_LIMIT_STORE = env_str("QUANZI_RATE_LIMIT_STORE", "auto")
if RATE_LIMIT_STORE not in {"auto", "cache", "database"}:
    raise ImproperlyConfigured("QUANZI_RATE_LIMIT_STORE must be auto, cache or database")

# Bearer tokens: with a shared cache (Redis), a token's user is kept there this many
# seconds, so an API request needs no query to authenticate. Logging out forgets it at
# once, and so does any change saved to the user (roles, deactivation, password). Off
# without Redis: processes would not see each other's logouts.
AUTH_TOKEN_CACHE_SECONDS = int(env_str("QUANZI_AUTH_CACHE_SECONDS", "30" if REDIS_URL else "0"))

# Payments: the sandbox gateway marks orders paid on request, so production refuses it
# unless the operator explicitly allows it.
SANDBOX_ENABLED = (not PRODUCTION) or env_bool("QUANZI_ALLOW_SANDBOX", False)
SANDBOX_SIGNING_KEY = env_str("QUANZI_SANDBOX_KEY", SECRET_KEY + ":sandbox")
PUBLIC_URL = env_str("QUANZI_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")

# Real gateways, each configured only when its merchant keys are set. Keys and certificates
# are paths to PEM files; *_GATEWAY_URL overrides the provider's host (tests, proxies).
QUANZI_WECHATPAY_MCHID = env_str("QUANZI_WECHATPAY_MCHID", "")
QUANZI_WECHATPAY_APPID = env_str("QUANZI_WECHATPAY_APPID", "")
QUANZI_WECHATPAY_APIV3_KEY = env_str("QUANZI_WECHATPAY_APIV3_KEY", "")
QUANZI_WECHATPAY_CERT_SERIAL_NO = env_str("QUANZI_WECHATPAY_CERT_SERIAL_NO", "")
QUANZI_WECHATPAY_PRIVATE_KEY = env_str("QUANZI_WECHATPAY_PRIVATE_KEY", "")
QUANZI_WECHATPAY_PLATFORM_CERTS_DIR = env_str("QUANZI_WECHATPAY_PLATFORM_CERTS_DIR", "")
QUANZI_WECHATPAY_PUBLIC_KEY = env_str("QUANZI_WECHATPAY_PUBLIC_KEY", "")
QUANZI_WECHATPAY_PUBLIC_KEY_ID = env_str("QUANZI_WECHATPAY_PUBLIC_KEY_ID", "")
QUANZI_WECHATPAY_NOTIFY_URL = env_str(
    "QUANZI_WECHATPAY_NOTIFY_URL", f"{PUBLIC_URL}/api/v1/payments/notify/wechatpay"
)
QUANZI_WECHATPAY_GATEWAY_URL = env_str("QUANZI_WECHATPAY_GATEWAY_URL", "")
QUANZI_WECHATPAY_TRANSFER_SCENE_ID = env_str("QUANZI_WECHATPAY_TRANSFER_SCENE_ID", "")
# WeChat apps (docs/wechat.md); these take precedence over the operator's settings.
QUANZI_WECHAT_MINI_APPID = env_str("QUANZI_WECHAT_MINI_APPID", "")
QUANZI_WECHAT_MINI_SECRET = env_str("QUANZI_WECHAT_MINI_SECRET", "")
QUANZI_WECHAT_MP_APPID = env_str("QUANZI_WECHAT_MP_APPID", "")
QUANZI_WECHAT_MP_SECRET = env_str("QUANZI_WECHAT_MP_SECRET", "")
QUANZI_WECHAT_API_URL = env_str("QUANZI_WECHAT_API_URL", "https://api.weixin.qq.com")
QUANZI_WECHAT_OPEN_URL = env_str("QUANZI_WECHAT_OPEN_URL", "https://open.weixin.qq.com")
QUANZI_WECHAT_JSSDK_URL = env_str(
    "QUANZI_WECHAT_JSSDK_URL", "https://res.wx.qq.com/open/js/jweixin-1.6.0.js"
)
# SMS push channel (docs/recommendation.md): off unless a provider is named ("console"
# writes messages to the log; "tencent" sends through Tencent Cloud SMS).
QUANZI_SMS_PROVIDER = env_str("QUANZI_SMS_PROVIDER", "")
QUANZI_SMS_SECRET_ID = env_str("QUANZI_SMS_SECRET_ID", "")
QUANZI_SMS_SECRET_KEY = env_str("QUANZI_SMS_SECRET_KEY", "")
QUANZI_SMS_SDK_APP_ID = env_str("QUANZI_SMS_SDK_APP_ID", "")
QUANZI_SMS_SIGN_NAME = env_str("QUANZI_SMS_SIGN_NAME", "")
QUANZI_SMS_REGION = env_str("QUANZI_SMS_REGION", "ap-guangzhou")
QUANZI_SMS_ENDPOINT = env_str("QUANZI_SMS_ENDPOINT", "")
# topic:template id[:fields], comma separated, e.g. "orders:1234567,groups:2345678:title"
QUANZI_SMS_TEMPLATES = env_str("QUANZI_SMS_TEMPLATES", "")
QUANZI_ALIPAY_APP_ID = env_str("QUANZI_ALIPAY_APP_ID", "")
QUANZI_ALIPAY_PRIVATE_KEY = env_str("QUANZI_ALIPAY_PRIVATE_KEY", "")
QUANZI_ALIPAY_PUBLIC_KEY = env_str("QUANZI_ALIPAY_PUBLIC_KEY", "")
QUANZI_ALIPAY_APP_CERT = env_str("QUANZI_ALIPAY_APP_CERT", "")
QUANZI_ALIPAY_PUBLIC_CERT = env_str("QUANZI_ALIPAY_PUBLIC_CERT", "")
QUANZI_ALIPAY_ROOT_CERT = env_str("QUANZI_ALIPAY_ROOT_CERT", "")
QUANZI_ALIPAY_NOTIFY_URL = env_str(
    "QUANZI_ALIPAY_NOTIFY_URL", f"{PUBLIC_URL}/api/v1/payments/notify/alipay"
)
QUANZI_ALIPAY_RETURN_URL = env_str("QUANZI_ALIPAY_RETURN_URL", "")
QUANZI_ALIPAY_GATEWAY_URL = env_str("QUANZI_ALIPAY_GATEWAY_URL", "")

# Background work: in-process unless Celery (QUANZI_REDIS_URL) is configured.
TASKS_EAGER = not REDIS_URL or env_bool("QUANZI_TASKS_EAGER", False)

# Celery (quanzi/core/celery.py): Redis is the broker; tasks are idempotent service calls,
# acknowledged after they ran, so a worker that dies mid-task leaves it to be delivered
# again (and the sweeps pick up whatever a lost message left behind).
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 3,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_TIMEZONE = TIME_ZONE
# Every ``quanzi worker`` runs beat too (sweeps are locked per name in Redis, so several
# beats never run one sweep twice at once); QUANZI_WORKER_BEAT=0 turns it off for a worker.
WORKER_BEAT = env_bool("QUANZI_WORKER_BEAT", True)
# Seconds a sweep's Redis lock lives without its holder renewing it (a killed worker's
# lock is free again after this); QUANZI_SWEEP_INTERVAL_CAP caps every sweep's interval.
SWEEP_LOCK_TTL = int(env_str("QUANZI_SWEEP_LOCK_TTL", "30"))
SWEEP_INTERVAL_CAP = int(env_str("QUANZI_SWEEP_INTERVAL_CAP", "0"))

# How many proxies in front append to X-Forwarded-For (nginx: 1). Rate limits count per
# client address; 0 = use the connection's address.
PROXY_COUNT = int(env_str("QUANZI_PROXY_COUNT", "1" if PRODUCTION else "0"))

if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # The proxy redirects plain HTTP; the app may too (never /healthz, /readyz).
    SECURE_SSL_REDIRECT = env_bool("QUANZI_SSL_REDIRECT", False)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SECURE_HSTS_SECONDS = int(env_str("QUANZI_HSTS_SECONDS", "0"))
    CSRF_TRUSTED_ORIGINS = env_list("QUANZI_CSRF_TRUSTED_ORIGINS", [])

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "quanzi.core.logging.JsonFormatter"}},
    "filters": {"context": {"()": "quanzi.core.logging.ContextFilter"}},
    "handlers": {
        "console": {
            "class": "quanzi.core.logging.StderrHandler",
            "formatter": "json",
            "filters": ["context"],
        }
    },
    "loggers": {
        "quanzi": {
            "handlers": ["console"],
            "level": env_str("QUANZI_LOG_LEVEL", "INFO"),
            "propagate": False,
        },
        # Unhandled errors of the web views, and the worker's own lines, as JSON too.
        "django": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        # Requests for hosts this shop does not serve (scanners): answered 400, not logged.
        "django.security.DisallowedHost": {"handlers": [], "propagate": False},
        "celery": {
            "handlers": ["console"],
            "level": env_str("QUANZI_CELERY_LOG_LEVEL", "WARNING"),
            "propagate": False,
        },
    },
}
