"""chatdesk settings: one file, every knob read from the environment.

A deployer reads this file top to bottom and knows every setting. Each variable is
documented in the README's configuration table.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from dotenv import load_dotenv

BASE_DIR = Path(__file__).resolve().parent.parent

# An optional .env beside manage.py, read by python-dotenv (inline `# comments`, `export
# KEY=value`, quoted values with escapes as shells write them); the real environment wins.
load_dotenv(BASE_DIR / ".env", override=False)


def envbool(name: str, default: bool = False) -> bool:
    value = os.getenv(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {value!r}")


def envint(name: str, default: int) -> int:
    value = os.getenv(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from None


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.getenv(name, default).split(",") if item.strip()]


DEBUG = envbool("DJANGO_DEBUG", False)

SECRET_KEY = os.getenv("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. chatdesk refuses to start in production without "
            "a secret key: set DJANGO_SECRET_KEY to a long random string (for example the "
            "output of `python -c 'import secrets; print(secrets.token_urlsafe(50))'`), or set "
            "DJANGO_DEBUG=1 for local development."
        )
    SECRET_KEY = "chatdesk-insecure-development-key-do-not-use-in-production"

ALLOWED_HOSTS = envlist("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    # daphne first: `manage.py runserver` then serves the same ASGI app as production.
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "chat",
    "accounts",
    "telegram_bridge",
    # Emails to visitors: replies while they are away, transcripts (outbox + worker).
    "notifications",
    # Limits password guesses at the Django admin's sign-in form (/django-admin/).
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "chatdesk.middleware.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Innermost, so it sees a view's exception first.
    "chatdesk.middleware.RefusalMiddleware",
    # Answers a locked-out staff sign-in (django-axes; keep it last).
    "axes.middleware.AxesMiddleware",
]

# Staff (Django admin) passwords: django-axes checks lockouts before the password.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "chatdesk.urls"
ASGI_APPLICATION = "chatdesk.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "chatdesk.context_processors.chat_limits",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
# SQLite by default (a file beside manage.py); DATABASE_URL=postgres://... for production.
DATABASE_URL = os.getenv("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
# Connections are not kept between requests: under ASGI every request may run on another
# thread, so "persistent" connections would pile up. PostgreSQL gets a connection pool
# instead, which checks each connection before handing it out, so a database restart heals.
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
DATABASE_IS_SQLITE = DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
if DATABASE_IS_SQLITE:
    # Django's, with its %s → ? rewrite done once per statement text (chatdesk/sqlite_backend).
    DATABASES["default"]["ENGINE"] = "chatdesk.sqlite_backend"
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets the panel read while a visitor's message is written; IMMEDIATE
        # transactions wait for the write lock instead of failing with "database is locked".
        # A server process checkpoints the WAL on a thread of its own, once a second
        # (SQLITE_CHECKPOINT_MS); SQLite's own checkpoint, on the commit that fills the
        # WAL, is the backstop, at 10,000 pages (about 40 MB) instead of 1,000: a message
        # dirties the same few pages as the last one did (its thread's row, the index
        # leaves at the end), and a checkpoint copies each page once however often it
        # changed (bench/README.md, tenth round). The WAL is cut back to 64 MB after a
        # checkpoint that emptied it.
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
            f" PRAGMA wal_autocheckpoint={envint('SQLITE_WAL_AUTOCHECKPOINT_PAGES', 10000)};"
            " PRAGMA journal_size_limit=67108864;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's, with writes that can go with the COMMIT (chatdesk/postgresql_backend).
    DATABASES["default"]["ENGINE"] = "chatdesk.postgresql_backend"
    # Django passes check=ConnectionPool.check_connection to the pool when health checks
    # are on (giving `check` in the pool options too is a TypeError at the first query).
    # One extra round trip per checkout; DATABASE_POOL_CHECK_SECONDS sweeps idle ones anyway.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = envbool("DATABASE_CHECK_ON_CHECKOUT", True)
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {
            # Fail fast instead of hanging when PostgreSQL is unreachable.
            "connect_timeout": envint("DATABASE_CONNECT_TIMEOUT", 5),
            # The visitor messages' store statement is prepared once per connection
            # (chatdesk/prepared.py), and psycopg prepares the statements run on its own
            # cursor after a few uses; 0 for a pooler that cannot keep prepared statements
            # (PgBouncer in transaction mode before 1.21).
            "prepare_threshold": 5 if envbool("DATABASE_PREPARED_STATEMENTS", True) else None,
            "pool": {
                "min_size": envint("DATABASE_POOL_MIN", 2),
                "max_size": envint("DATABASE_POOL_MAX", 20),
                "timeout": envint("DATABASE_POOL_TIMEOUT", 5),
            },
        }
    )

# Server processes check the pool's idle connections this often, so a database restart
# is noticed before a request trips over the dead connections (see chat/realtime/db_worker.py).
DATABASE_POOL_CHECK_SECONDS = envint("DATABASE_POOL_CHECK_SECONDS", 5)
# SQLite: a server process checkpoints the WAL this often, beside the writers (0: only
# SQLite's own checkpoints, on the commit that fills the WAL; chat/realtime/sqlite_checkpoint.py).
SQLITE_CHECKPOINT_MS = envint("SQLITE_CHECKPOINT_MS", 1000)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Database work of the realtime layer runs in this many worker threads, off the event loop.
# SQLite has a single writer, so one thread avoids lock contention there.
DB_THREADS = envint("DB_THREADS", 1 if DATABASE_IS_SQLITE else 8)
# Visitor messages are stored in groups (group commit, chat/realtime/handlers.py); while
# messages come often (less than four of these apart, on average) each group waits this
# long (µs) for the messages right behind it: a millisecond of latency for larger groups
# and less CPU per message under load (bench/README.md, fifth and thirteenth rounds).
MESSAGE_STORE_LINGER_US = max(0, envint("MESSAGE_STORE_LINGER_US", 1000))
# How often (µs) CPython hands the GIL between the event loop and those threads; the
# default 5 ms adds up to that much delivery latency at every handover (see chatdesk/startup.py).
GIL_SWITCH_INTERVAL_US = envint("GIL_SWITCH_INTERVAL_US", 500)
# Young-generation threshold of the garbage collector in server processes (Python's
# default is 700; 0 leaves Python's settings alone). See chatdesk/startup.py.
GC_GEN0_THRESHOLD = envint("GC_GEN0_THRESHOLD", 5000)
# Seconds between full garbage collections in server processes (0: only Python's own).
# Closed sockets leave reference cycles (twisted, daphne, engine.io) that only a full
# collection frees, and Python runs one only when the old generation grew by 25%: without
# this the soak's servers grew for tens of minutes (bench/README.md, memory soak). On by
# default: a pause of tens of milliseconds a minute is invisible in a chat, a process
# that grows until it is killed is not.
GC_FULL_COLLECT_SECONDS = envint("GC_FULL_COLLECT_SECONDS", 60)
# glibc malloc arenas in server processes (0: glibc's default, 8 per core). Each thread's
# own arena fragments on its own; with 2 the soak's free-but-held memory stopped growing
# (chatdesk/malloc_tuning.py, bench/README.md).
MALLOC_ARENAS = envint("MALLOC_ARENAS", 2)

# --- Redis, cache, sessions -----------------------------------------------------------
REDIS_URL = os.getenv("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "chatdesk",
            "OPTIONS": {"socket_connect_timeout": 5, "socket_timeout": 5},
        }
    }
else:
    # One process, so its memory is the shared state; OTP codes live in the database anyway.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# The Redis pub/sub channel that carries Socket.IO emits between server processes. Pub/sub
# channels are global to a Redis server (not per database number), so two desks sharing
# one Redis need different channels. Every process of one desk must use the same name.
SOCKETIO_REDIS_CHANNEL = os.getenv("SOCKETIO_REDIS_CHANNEL", "chatdesk")

SESSION_ENGINE = "chatdesk.sessions"
SESSION_COOKIE_AGE = envint("SESSION_COOKIE_AGE", 60 * 60 * 24 * 30)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = os.getenv("SESSION_COOKIE_SAMESITE", "Lax")
CSRF_COOKIE_SAMESITE = os.getenv("CSRF_COOKIE_SAMESITE", "Lax")
CSRF_FAILURE_VIEW = "chatdesk.views.csrf_failure"

# --- Security (production defaults; every one can be set from the environment) --------
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = envbool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = envbool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", False)
# Asking browsers to preload HSTS commits the whole domain (and its subdomains) to HTTPS
# for good; only the deployer can decide that, so `check --deploy` does not nag about it.
SILENCED_SYSTEM_CHECKS = ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if envbool("USE_X_FORWARDED_PROTO", False):
    # Only behind a proxy that sets this header itself; otherwise clients could forge it.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Health checks come over plain HTTP from the load balancer.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# Sites allowed to embed the chat in an iframe (the chatdesk-widget.js launcher).
WIDGET_ALLOWED_ORIGINS = envlist("WIDGET_ALLOWED_ORIGINS")

# --- Socket.IO ------------------------------------------------------------------------
# Unset: same origin only. A comma-separated list of origins, or "*" if you really mean it.
SOCKETIO_CORS_ORIGINS = envlist("SOCKETIO_CORS_ORIGINS") or None
SOCKETIO_PING_INTERVAL = envint("SOCKETIO_PING_INTERVAL", 25)
SOCKETIO_PING_TIMEOUT = envint("SOCKETIO_PING_TIMEOUT", 20)
SOCKETIO_MAX_CONNECTIONS_PER_IP = envint("SOCKETIO_MAX_CONNECTIONS_PER_IP", 50)
# Largest Socket.IO packet or polling POST body: a little above the largest legal event
# (4,000 characters of text plus fields). Larger polling POSTs are answered 413 at once.
SOCKETIO_MAX_PAYLOAD_BYTES = 64 * 1024
# With Redis, a socket held by a process that died stops counting after this many seconds.
SOCKETIO_CONNECTION_TTL = envint("SOCKETIO_CONNECTION_TTL", 90)

# --- Chat rules -----------------------------------------------------------------------
MESSAGE_MAX_CHARS = 4000
DISPLAY_NAME_MAX_CHARS = 80
# A visitor counts as online for this long after their last heartbeat.
ONLINE_WINDOW_SECONDS = 60
UPLOAD_MAX_BYTES = envint("UPLOAD_MAX_BYTES", 16 * 1024 * 1024)
# Pictures are decoded and re-encoded on upload (chat/attachments/images.py); larger ones
# (all frames of an animation together) are refused before they take the memory.
UPLOAD_MAX_PIXELS = envint("UPLOAD_MAX_PIXELS", 50_000_000)
# Threads answered by GET /api/threads without ?limit= (the contract's unpaginated form).
THREADS_DEFAULT_LIMIT = envint("THREADS_DEFAULT_LIMIT", 500)
THREADS_MAX_LIMIT = 500
MESSAGES_DEFAULT_LIMIT = envint("MESSAGES_DEFAULT_LIMIT", 1000)
MESSAGES_MAX_LIMIT = 1000

# --- Sign-in (one-time codes) ---------------------------------------------------------
OTP_TTL_SECONDS = envint("OTP_TTL_SECONDS", 300)
OTP_MAX_ATTEMPTS = envint("OTP_MAX_ATTEMPTS", 5)
OTP_REQUESTS_PER_WINDOW = envint("OTP_REQUESTS_PER_WINDOW", 5)
OTP_REQUEST_WINDOW_SECONDS = envint("OTP_REQUEST_WINDOW_SECONDS", 600)
OTP_VERIFY_FAILURES_PER_IP = envint("OTP_VERIFY_FAILURES_PER_IP", 20)
OTP_VERIFY_WINDOW_SECONDS = envint("OTP_VERIFY_WINDOW_SECONDS", 3600)
# Codes one browser session may request per OTP_REQUEST_WINDOW_SECONDS, and all clients
# together (the ceiling also caps how many code messages the bot sends).
OTP_REQUESTS_PER_SESSION = envint("OTP_REQUESTS_PER_SESSION", 3)
OTP_REQUESTS_GLOBAL = envint("OTP_REQUESTS_GLOBAL", 60)
# Wrong codes per OTP_VERIFY_WINDOW_SECONDS from all browsers that have no code of their
# own (the only guesses that can hit an operator's code).
OTP_VERIFY_FAILURES_GLOBAL = envint("OTP_VERIFY_FAILURES_GLOBAL", 100)

# --- Staff sign-in (Django admin, django-axes) ------------------------------------------
# After AXES_FAILURE_LIMIT wrong passwords for one username from one address, that pair
# is locked out for AXES_COOLOFF_HOURS (staff see and clear lockouts in the admin).
AXES_FAILURE_LIMIT = envint("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = envint("AXES_COOLOFF_HOURS", 1)
AXES_LOCKOUT_PARAMETERS = [["ip_address", "username"]]
AXES_CLIENT_IP_CALLABLE = "accounts.staff.client_address"
AXES_RESET_ON_SUCCESS = True

# --- Rate limits (requests per minute per client address / connection) ----------------
UPLOADS_PER_MINUTE = envint("UPLOADS_PER_MINUTE", 30)
SOCKET_MESSAGES_PER_MINUTE = envint("SOCKET_MESSAGES_PER_MINUTE", 120)
SOCKET_JOINS_PER_MINUTE = envint("SOCKET_JOINS_PER_MINUTE", 20)
SOCKET_HEARTBEATS_PER_MINUTE = envint("SOCKET_HEARTBEATS_PER_MINUTE", 30)
# Per client address, whatever the number of connections (they survive reconnects).
CONVERSATIONS_PER_HOUR_PER_IP = envint("CONVERSATIONS_PER_HOUR_PER_IP", 20)
MESSAGES_PER_MINUTE_PER_IP = envint("MESSAGES_PER_MINUTE_PER_IP", 240)
# Anonymous uploads: bytes one address may store per day, and the free disk space below
# which local uploads are refused (so the database and logs never run out of room).
UPLOAD_BYTES_PER_DAY_PER_IP = envint("UPLOAD_BYTES_PER_DAY_PER_IP", 256 * 1024 * 1024)
UPLOAD_MIN_FREE_BYTES = envint("UPLOAD_MIN_FREE_BYTES", 1024 * 1024 * 1024)

# --- Telegram -------------------------------------------------------------------------
TELEGRAM_BOT_TOKEN = os.getenv("TELEGRAM_BOT_TOKEN", "")
TELEGRAM_CHAT_ID = os.getenv("TELEGRAM_CHAT_ID", "")
TELEGRAM_WEBHOOK_SECRET = os.getenv("TELEGRAM_WEBHOOK_SECRET", "")
TELEGRAM_API_BASE = os.getenv("TELEGRAM_API_BASE", "https://api.telegram.org").rstrip("/")
TELEGRAM_TOPICS = envbool("TELEGRAM_TOPICS", False)
# The control card (issue 13): each thread's first message in the admin chat (pinned in
# its topic) shows its state with Claim / Resolve / Reopen / Block / Open in panel buttons.
TELEGRAM_CARDS = envbool("TELEGRAM_CARDS", True)
# The language of the bot's texts in the admin chat (cards, listings): "tr" or "en";
# empty: LANGUAGE_CODE. A button's toast follows the presser's Telegram language.
TELEGRAM_LANGUAGE = os.getenv("TELEGRAM_LANGUAGE", "").strip().lower()
# The outbox worker's pace per chat (Telegram: about 1 message/s, 20/min in groups)
# and the first retry delay after a failed send (doubling up to 5 minutes).
TELEGRAM_SEND_INTERVAL_MS = envint("TELEGRAM_SEND_INTERVAL_MS", 1000)
TELEGRAM_GROUP_MESSAGES_PER_MINUTE = envint("TELEGRAM_GROUP_MESSAGES_PER_MINUTE", 20)
TELEGRAM_RETRY_BASE_MS = envint("TELEGRAM_RETRY_BASE_MS", 1000)
# The longest retry delay: after an outage the backlog waits at most this long to go out.
TELEGRAM_RETRY_MAX_SECONDS = envint("TELEGRAM_RETRY_MAX_SECONDS", 300)
# A send claimed longer ago than this belongs to a process that died mid-send: it is
# retried. Keep it above the Bot API HTTP timeout (10 s), or a slow send may go twice.
TELEGRAM_CLAIM_TIMEOUT_SECONDS = envint("TELEGRAM_CLAIM_TIMEOUT_SECONDS", 120)

# How sign-in codes reach the admin (accounts/delivery.py): a dotted path to a backend.
# Default: Telegram when a bot and chat are set, else the code in the /request-otp answer
# under DEBUG, else nothing is sent and an operator runs `manage.py issue_login_code`.
if TELEGRAM_BOT_TOKEN and TELEGRAM_CHAT_ID:
    _default_code_backend = "telegram_bridge.otp.TelegramDelivery"
elif DEBUG:
    _default_code_backend = "accounts.delivery.DevelopmentDelivery"
else:
    _default_code_backend = "accounts.delivery.OperatorDelivery"
LOGIN_CODE_BACKEND = os.getenv("LOGIN_CODE_BACKEND") or _default_code_backend
# Telegram counts as behind (panel banner, /healthz) when the oldest unsent item waited longer.
TELEGRAM_BEHIND_SECONDS = envint("TELEGRAM_BEHIND_SECONDS", 60)
# "Continue in Telegram" (issue 14): how long a visitor's t.me start link works (single use).
TELEGRAM_CONTINUE_TOKEN_SECONDS = envint("TELEGRAM_CONTINUE_TOKEN_SECONDS", 3600)
# /healthz details (backlog, last error) for monitoring without a session: `Authorization:
# Bearer <token>`. Unset: only signed-in staff and panel admins see them.
HEALTHZ_TOKEN = os.getenv("HEALTHZ_TOKEN", "")

# --- Email to visitors and availability (notifications/, chat/availability.py) -----------
# EMAIL_URL: smtp://host:25, smtp+tls://user:pass@host:587, smtp+ssl://...:465,
# consolemail:// (printed), parsed by django-environ. Unset: printed under DEBUG (make run),
# else no emails are sent and visitors are not asked for an address.
EMAIL_URL = os.getenv("EMAIL_URL", "") or ("consolemail://" if DEBUG else "")
EMAIL_ENABLED = bool(EMAIL_URL)
if EMAIL_URL:
    import environ

    _email = environ.Env.email_url_config(EMAIL_URL)
    EMAIL_BACKEND = _email["EMAIL_BACKEND"]
    EMAIL_HOST = _email.get("EMAIL_HOST") or "localhost"
    EMAIL_PORT = _email.get("EMAIL_PORT") or 25
    EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER") or ""
    EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD") or ""
    EMAIL_USE_TLS = bool(_email.get("EMAIL_USE_TLS"))
    EMAIL_USE_SSL = bool(_email.get("EMAIL_USE_SSL"))
EMAIL_TIMEOUT = envint("EMAIL_TIMEOUT", 20)
DEFAULT_FROM_EMAIL = os.getenv("DEFAULT_FROM_EMAIL", "chatdesk <noreply@localhost>")
# The public address of this desk, for the links in emails (no trailing slash).
SITE_URL = os.getenv("SITE_URL", f"http://127.0.0.1:{os.getenv('PORT', '8000')}").rstrip("/")
# An agent's reply is emailed when the visitor has not seen it this long after it was sent,
# at most one email per thread per EMAIL_BATCH_SECONDS (later replies wait and go together).
EMAIL_UNSEEN_SECONDS = envint("EMAIL_UNSEEN_SECONDS", 60)
EMAIL_BATCH_SECONDS = envint("EMAIL_BATCH_SECONDS", 300)
# The visitor is asked for an address when no agent answered their first message this long.
EMAIL_ASK_AFTER_SECONDS = envint("EMAIL_ASK_AFTER_SECONDS", 120)
# Failed sends are retried after EMAIL_RETRY_BASE_SECONDS, doubling up to the maximum, for
# a day; a claim older than EMAIL_CLAIM_TIMEOUT_SECONDS belongs to a worker that died.
EMAIL_RETRY_BASE_SECONDS = envint("EMAIL_RETRY_BASE_SECONDS", 10)
EMAIL_RETRY_MAX_SECONDS = envint("EMAIL_RETRY_MAX_SECONDS", 600)
EMAIL_CLAIM_TIMEOUT_SECONDS = envint("EMAIL_CLAIM_TIMEOUT_SECONDS", 120)
# How long the "reopen this conversation" link in an email works.
EMAIL_LINK_MAX_AGE_DAYS = envint("EMAIL_LINK_MAX_AGE_DAYS", 30)
# The desk counts as available while an agent has the panel open, or wrote in the Telegram
# admin chat within AVAILABILITY_TELEGRAM_MINUTES, inside business hours (Django admin).
AVAILABILITY_TELEGRAM_MINUTES = envint("AVAILABILITY_TELEGRAM_MINUTES", 15)
# How often each server process re-checks availability and tells visitors of a change.
AVAILABILITY_CHECK_SECONDS = envint("AVAILABILITY_CHECK_SECONDS", 10)
# The measured reply time (median first response, last 7 days) is recomputed this often.
AVAILABILITY_MEDIAN_CACHE_SECONDS = envint("AVAILABILITY_MEDIAN_CACHE_SECONDS", 300)

# --- Uploads and static files ---------------------------------------------------------
CLOUDINARY_URL = os.getenv("CLOUDINARY_URL", "")
# Where the Cloudinary SDK sends API calls (tests point it at a local fake); unset: Cloudinary.
CLOUDINARY_UPLOAD_PREFIX = os.getenv("CLOUDINARY_UPLOAD_PREFIX", "")
# Where stored files are downloaded from (the Telegram bridge uploads them to Telegram);
# unset: Cloudinary's delivery host. Tests point it at the fake.
CLOUDINARY_DOWNLOAD_PREFIX = os.getenv("CLOUDINARY_DOWNLOAD_PREFIX", "")
# Seconds one Cloudinary call may take before the upload fails with 502.
CLOUDINARY_TIMEOUT = envint("CLOUDINARY_TIMEOUT", 30)
# Threads that parse and store uploads, apart from the threads of other requests.
UPLOAD_THREADS = envint("UPLOAD_THREADS", 4)
# Largest request body of any other route (the upload routes allow UPLOAD_MAX_BYTES).
REQUEST_MAX_BYTES = envint("REQUEST_MAX_BYTES", 4 * 1024 * 1024)
UPLOADS_ROOT = Path(os.getenv("UPLOADS_ROOT", BASE_DIR / "uploads"))
MEDIA_ROOT = UPLOADS_ROOT
# Behind nginx: an internal location (e.g. /_uploads/) aliased to UPLOADS_ROOT; Django checks
# the path and answers X-Accel-Redirect, nginx sends the bytes (docs/deploy.md). Empty: Django.
UPLOADS_X_ACCEL_REDIRECT = os.getenv("UPLOADS_X_ACCEL_REDIRECT", "")
if UPLOADS_X_ACCEL_REDIRECT and not (
    UPLOADS_X_ACCEL_REDIRECT.startswith("/") and UPLOADS_X_ACCEL_REDIRECT.endswith("/")
):
    raise ImproperlyConfigured("UPLOADS_X_ACCEL_REDIRECT must be a path like /_uploads/ (with both slashes)")
MEDIA_URL = "/uploads/"
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": UPLOADS_ROOT, "base_url": MEDIA_URL},
    },
    # Hashed, compressed names for long browser caching; `make setup` runs collectstatic.
    # Under DEBUG, Django serves unhashed names, so editing a file needs no collectstatic.
    # whitenoise's compressed, hashed files, with ES module imports rewritten too.
    "staticfiles": {"BACKEND": "chatdesk.staticfiles.ChatdeskStaticFilesStorage"},
}
# Where uploads are stored: STORAGE_BACKEND (+ STORAGE_OPTIONS, JSON) picks any storage
# class, e.g. django-storages' S3; else Cloudinary when CLOUDINARY_URL is set; else disk.
if os.getenv("STORAGE_BACKEND"):
    import json

    try:
        _storage_options = json.loads(os.getenv("STORAGE_OPTIONS") or "{}")
    except ValueError:
        raise ImproperlyConfigured("STORAGE_OPTIONS must be a JSON object") from None
    STORAGES["default"] = {"BACKEND": os.environ["STORAGE_BACKEND"], "OPTIONS": _storage_options}
elif CLOUDINARY_URL:
    STORAGES["default"] = {"BACKEND": "chat.attachments.cloudinary_storage.CloudinaryStorage"}
WHITENOISE_USE_FINDERS = DEBUG

# --- Internationalisation -------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("tr", "Türkçe")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
# Stored in UTC; shown to people in this zone (the spec's "Türkiye saati").
TIME_ZONE = os.getenv("TIME_ZONE", "Europe/Istanbul")

# --- Logging: one line per event, key=value pairs that log tools parse ------------------
# Values from requests are quoted, so none can start a fake line (chatdesk/logs.py);
# LOG_FORMAT=json writes one JSON object per line instead, for log shippers.
LOG_LEVEL = os.getenv("LOG_LEVEL") or "INFO"
LOG_FORMAT = os.getenv("LOG_FORMAT") or "line"
if LOG_FORMAT not in ("line", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be line or json, got {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "line": {
            "()": "chatdesk.logs.KeyValueFormatter",
            "format": "%(asctime)s level=%(levelname)s logger=%(name)s %(message)s",
        },
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "chatdesk": {"level": LOG_LEVEL},
        "chat": {"level": LOG_LEVEL},
        "accounts": {"level": LOG_LEVEL},
        "telegram_bridge": {"level": LOG_LEVEL},
        "notifications": {"level": LOG_LEVEL},
        # Django's records go through the formatter above only (not also through Django's
        # own debug console handler, which would print each one a second time, unformatted).
        "django": {"handlers": [], "level": "INFO"},
        # Refused and unknown requests (4xx: "Not Found: /path") with their path; 5xx with
        # their traceback.
        "django.request": {"level": "WARNING"},
    },
}

# How many reverse proxies in front of chatdesk append to X-Forwarded-For: the client
# address is the entry that many from the right (chatdesk/clientip.py). 0: the header is
# ignored and the peer address counts. TRUST_X_FORWARDED_FOR=1 (older name) means 1 hop.
TRUSTED_PROXY_HOPS = envint("TRUSTED_PROXY_HOPS", 1 if envbool("TRUST_X_FORWARDED_FOR", False) else 0)
if TRUSTED_PROXY_HOPS < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_HOPS must be 0 or more")
TRUST_X_FORWARDED_FOR = TRUSTED_PROXY_HOPS > 0
