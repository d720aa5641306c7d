"""Settings, read once from the environment (README, "Configuration").

With nothing set, the app runs embedded: SQLite file, in-memory channel layer,
DEBUG on with development secrets. Production sets DEBUG=false, SECRET_KEY,
SMS_AUTH_TOKEN, TURN_SECRET, ALLOWED_HOSTS, DATABASE_URL and REDIS_URL.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.env import env_bool, env_int, env_list, env_networks, env_secret, env_str, env_urls

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", True)

# Secrets: with DEBUG off, start-up fails while one is unset or is a value this
# repository uses for development (a webhook signed with the SMS stub's token
# must not be believed in production). SMS_AUTH_TOKEN and TURN_SECRET are below.
SECRET_KEY = env_secret("SECRET_KEY", development="django-insecure-embedded-development-key-do-not-deploy", production=not DEBUG)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "daphne",
    "config.apps.DistrictAdminConfig",  # django.contrib.admin (config/admin_site.py)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "channels",
    "axes",
    "accounts",
    "communes",
    "booking",
    "signaling",
    "telecare",
    "classrooms",
    "portal",  # what knows both domains (portal/__init__.py)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy and Permissions-Policy (below): on static files too.
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After whitenoise, so that static files keep its caching.
    "config.cache_control.NoStoreByDefaultMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "config.language.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a lockout into our page (accounts.lockout).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = "config.wsgi.application"

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
            ],
        },
    },
]

# Database: DATABASE_URL, or an SQLite file under VAR_DIR.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DB_CONN_MAX_AGE", 0, minimum=0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock when a transaction starts, so the overlap
    # check and the insert of a booking are serialized between processes.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # Tests use a file so that other threads and the daphne test server see it;
    # one per test run, so that two runs in one checkout do not collide.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-db-{os.getpid()}.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Channel layer: Redis when REDIS_URL is set, else in-memory (one process only).
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
# The cache holds what every web process must agree on (how many sockets a user
# has open in a room): Redis when it is there, else this process's memory.
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
                          "KEY_PREFIX": "telecare"}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Failed sign-ins (the login page, the admin's, the API's token endpoint) and
# password reset requests are counted per account and per client address
# (config.client_address) by django-axes; at LOGIN_FAILURE_LIMIT within
# LOGIN_LOCKOUT_MINUTES of the last one, that account or address is locked out
# until those minutes pass or the district manager lifts it in the admin.
AUTHENTICATION_BACKENDS = [
    "accounts.backends.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_CLIENT_IP_CALLABLE = "config.client_address.client_ip"
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
# Attempts while locked out do not extend it: it ends when the page says.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Only failures are kept, not a second record of every sign-in and its address.
AXES_DISABLE_ACCESS_LOG = True
# API tokens stop working this long after they were issued; the token endpoint
# then issues a new one. Changing a password or logging out revokes them.
API_TOKEN_TTL = timedelta(hours=env_int("API_TOKEN_TTL_HOURS", 24, minimum=1))

# X-Forwarded-For is believed only from these addresses and networks: the
# proxies in front of daphne (config/client_address.py). Empty: from no one.
TRUSTED_PROXIES = env_networks("TRUSTED_PROXIES")

# Request bodies past this are answered 413 before they are buffered
# (config/body_limit.py). Path prefixes with a limit of their own go in
# REQUEST_BODY_LIMITS (the longest matching prefix wins): an upload endpoint
# adds e.g. "/uploads/": env_int("UPLOAD_MAX_BYTES", 50 * 1024 * 1024, minimum=1).
MAX_REQUEST_BODY_BYTES = env_int("MAX_REQUEST_BODY_BYTES", 1024 * 1024, minimum=1024)
REQUEST_BODY_LIMITS: dict[str, int] = {}

LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Vietnamese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns on every request without it
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.tokens.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "telecare.api_errors.exception_handler",
    "DATETIME_FORMAT": "iso-8601",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Telecare scheduler API",
    "DESCRIPTION": "Consultations between commune health stations and district doctors.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
}

# Calls: what the server's aiortc peer announces, and what browsers are told.
# aioice leaves loopback out on its own; 127.0.0.1 keeps the embedded default
# and the tests on this machine. Production sets the public interface.
ICE_HOST_ADDRESSES = env_list("ICE_HOST_ADDRESSES", "127.0.0.1")
# STUN, and TURN (coturn, bin/turn) with credentials that signaling/ice.py derives
# from the secret shared with coturn and that last TURN_CREDENTIAL_TTL seconds.
STUN_URLS = env_urls("STUN_URLS", ("stun", "stuns"))
TURN_URLS = env_urls("TURN_URLS", ("turn", "turns"))
# bin/turn's examples use dev-turn-secret: refused in production like an unset secret.
TURN_SECRET = env_secret("TURN_SECRET", development="", known=("dev-turn-secret",), production=not DEBUG)
TURN_CREDENTIAL_TTL = env_int("TURN_CREDENTIAL_TTL", 3600, minimum=60)
if TURN_URLS and not TURN_SECRET:
    raise ImproperlyConfigured("TURN_SECRET (coturn's static-auth-secret) must be set when TURN_URLS is")
SIGNALING_MESSAGES_PER_SECOND = env_int("SIGNALING_MESSAGES_PER_SECOND", 20, minimum=1)
SIGNALING_MESSAGE_BURST = env_int("SIGNALING_MESSAGE_BURST", 60, minimum=1)
# Sockets one user may hold open in one room at once (two tabs and a reconnect); more get 4429.
ROOM_SOCKETS_PER_USER = env_int("ROOM_SOCKETS_PER_USER", 3, minimum=1)
# Consultation rooms open this long before the start and close this long after the end.
ROOM_OPENS_MINUTES_BEFORE = env_int("ROOM_OPENS_MINUTES_BEFORE", 15, minimum=0)
ROOM_CLOSES_MINUTES_AFTER = env_int("ROOM_CLOSES_MINUTES_AFTER", 30, minimum=0)
# The most the server sends a participant for video, in bit/s: mobile links are thin.
VIDEO_MAX_BITRATE = env_int("VIDEO_MAX_BITRATE", 300_000, minimum=30_000)
# How a call's media crosses the server: "forward" passes each side's encoded
# frames to the other (a receiver on a weak link gets a server encode at its
# level); "transcode" re-encodes for every receiver, the baseline bench/calls.py compares.
CALL_MEDIA = env_str("CALL_MEDIA", "forward")
if CALL_MEDIA not in ("forward", "transcode"):
    raise ImproperlyConfigured(f"CALL_MEDIA is forward or transcode, not {CALL_MEDIA!r}")
# The voice the server encodes (Opus, bit/s): with the packets' headers about 45
# kbit/s, so that audio only still fits a 50 kbit/s link (aiortc's own: 96 kbit/s).
AUDIO_BITRATE = env_int("AUDIO_BITRATE", 24_000, minimum=6_000)
# A participant whose socket dropped keeps their place this long (signaling/grace.py).
RECONNECT_GRACE_SECONDS = env_int("RECONNECT_GRACE_SECONDS", 60, minimum=1)
# On SIGTERM daphne tells every page "going away" (1001), then closes what the
# apps hold (config.lifecycle: the media peers) within this many seconds, and exits.
SHUTDOWN_SECONDS = env_int("SHUTDOWN_SECONDS", 6, minimum=1)
# Lesson rooms open this long before the lesson (they close like consultation rooms, or when the teacher ends the lesson).
LESSON_ROOM_OPENS_MINUTES_BEFORE = env_int("LESSON_ROOM_OPENS_MINUTES_BEFORE", 15, minimum=0)

# Recordings of lessons and consultations: where the files are written, and how
# many days they are kept (python manage.py purge_recordings deletes older ones).
RECORDINGS_DIR = Path(env_str("RECORDINGS_DIR") or str(VAR_DIR / "recordings"))
RECORDINGS_KEEP_DAYS = env_int("RECORDINGS_KEEP_DAYS", 30, minimum=1)
# A consultation's recording belongs to the patient's record, whose retention
# rules are the health service's, not the school's: its own setting.
CONSULTATION_RECORDINGS_KEEP_DAYS = env_int("CONSULTATION_RECORDINGS_KEEP_DAYS", RECORDINGS_KEEP_DAYS, minimum=1)
# Lessons are recorded from the teacher's "start" to "end" (false: never).
LESSON_RECORDING = env_bool("LESSON_RECORDING", True)
# Pupils in low-data mode get a still picture of the teacher this often.
LESSON_STILL_SECONDS = env_int("LESSON_STILL_SECONDS", 5, minimum=1)

# Booking rules
BOOKING_HORIZON_DAYS = env_int("BOOKING_HORIZON_DAYS", 60, minimum=1)

# Where people and providers reach the app: links in invites and SMS, webhook
# URLs given to the SMS provider and checked in its signatures.
PUBLIC_BASE_URL = (env_str("PUBLIC_BASE_URL") or "http://127.0.0.1:8000").rstrip("/")

# SMS through a Twilio-compatible API; the defaults point at the stub
# (python manage.py sms_stub) that the embedded default runs.
SMS_API_BASE = env_str("SMS_API_BASE") or "http://127.0.0.1:8025"
SMS_ACCOUNT_SID = env_str("SMS_ACCOUNT_SID") or "AC00000000000000000000000000000000"
# The stub's token (booking/sms_stub.py) signs webhooks too: refused in production.
SMS_AUTH_TOKEN = env_secret("SMS_AUTH_TOKEN", development="stub-auth-token", production=not DEBUG)
SMS_FROM = env_str("SMS_FROM") or "+84900000000"
SMS_MESSAGING_SERVICE_SID = env_str("SMS_MESSAGING_SERVICE_SID") or ""
SMS_TIMEOUT_SECONDS = env_int("SMS_TIMEOUT_SECONDS", 10, minimum=1)
# Vietnamese with diacritics costs a UCS-2 segment per 70 characters; without,
# a GSM-7 segment per 160. Off by default: every standard message is one segment.
SMS_UNICODE = env_bool("SMS_UNICODE", False)
# No reminders at night, unless the consultation comes before the night ends.
SMS_QUIET_HOURS = env_str("SMS_QUIET_HOURS") or "21:00-07:00"
SMS_REMINDER_HOURS_BEFORE = [int(h) for h in env_list("SMS_REMINDER_HOURS_BEFORE", "24,2")]

# The outbox worker (python manage.py outbox_worker)
OUTBOX_MAX_ATTEMPTS = env_int("OUTBOX_MAX_ATTEMPTS", 6, minimum=1)
OUTBOX_RETRY_BASE_SECONDS = env_int("OUTBOX_RETRY_BASE_SECONDS", 30, minimum=1)
OUTBOX_RETRY_MAX_SECONDS = env_int("OUTBOX_RETRY_MAX_SECONDS", 1800, minimum=1)
# A claimed message whose worker has not finished after this long is taken over
# (its worker died); longer than any HTTP call can take.
OUTBOX_LEASE_SECONDS = env_int("OUTBOX_LEASE_SECONDS", 3 * SMS_TIMEOUT_SECONDS + 5, minimum=1)
# A reminder later than this is dropped rather than sent late.
REMINDER_MAX_LATENESS_MINUTES = env_int("REMINDER_MAX_LATENESS_MINUTES", 30, minimum=1)

# Email: SMTP when EMAIL_HOST is set, else every mail is a file under var/mail/.
EMAIL_HOST = env_str("EMAIL_HOST") or ""
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER") or ""
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD") or ""
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", EMAIL_PORT == 587)
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", EMAIL_PORT == 465)
    EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20, minimum=1)
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "mail"
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL") or "Lich kham tu xa <noreply@telecare.example.vn>"

# Production hardening: on whenever DEBUG is off (README, "Production").
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# Content-Security-Policy on every response (django-csp): scripts and styles only
# from this site's files, never inline. Room pages also open their socket (same
# host, signaling.pages.room_page), play streams (blob:) and show the lesson's
# still pictures (JPEG as data:).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:"],
        "media-src": ["'self'", "blob:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
# Permissions-Policy (django-permissions-policy): no page may use these, except
# the room pages, which open camera, microphone and the teacher's screen
# (signaling.pages.room_page).
PERMISSIONS_POLICY = {
    "camera": [], "microphone": [], "display-capture": [], "geolocation": [], "payment": [], "usb": [],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # No phone numbers, feed tokens, search terms or secrets in any log line.
    "filters": {"redact": {"()": "config.log_redaction.RedactSecrets"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["redact"]}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Every ICE connectivity check at INFO would drown the log.
        "aioice": {"level": "WARNING"}, "aiortc": {"level": "WARNING"},
        # Django's own handlers (its DEBUG console, mail to ADMINS) would bypass
        # the filter: django's records go to the root's handlers only.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
    },
}
