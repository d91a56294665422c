"""Zhili settings, driven by ZHILI_* environment variables (see docs/configuration.md)."""

from pathlib import Path

import environ

from zhili.config.env import (
    data_dir,
    env_bool,
    env_int,
    env_list,
    env_str,
    generated_secret,
)
from zhili.config.logs import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = data_dir()

SECRET_KEY = env_str("SECRET_KEY") or generated_secret(DATA_DIR, "secret_key")
DEBUG = env_bool("DEBUG", False)
# Covering indexes (INCLUDE) serve index-only scans on PostgreSQL; SQLite ignores the extra
# columns and the index still works, which is all this warning says.
SILENCED_SYSTEM_CHECKS = ["models.W040"]
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "ninja",  # its bundled Swagger/Redoc assets: the API docs work offline
    "django_tasks",
    "django_tasks_db",
    "simple_history",
    "zhili.core",
    "zhili.areas",
    "zhili.orgs",
    "zhili.workdays",
    "zhili.accounts",
    "zhili.events",
    "zhili.people",
    "zhili.special",
    "zhili.disputes",
    "zhili.devices",
    "zhili.delivery",
    "zhili.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "zhili.core.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "zhili.core.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "zhili.accounts.middleware.IdleSessionMiddleware",
    "zhili.accounts.middleware.ActivePositionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "zhili.config.urls"
WSGI_APPLICATION = "zhili.config.wsgi.application"

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
                "zhili.core.context_processors.shell",
            ],
        },
    },
]


_SQLITE_OPTIONS = {
    # IMMEDIATE: a read followed by a write must not fail with "database is locked"
    # when the web server, the worker and the scheduler share the file.
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": (
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
        "PRAGMA busy_timeout=20000; PRAGMA foreign_keys=ON;"
    ),
}


def _database() -> dict:
    url = env_str("DATABASE_URL")
    if url:
        config = environ.Env.db_url_config(url)
        if config["ENGINE"] == "django.db.backends.postgresql":
            config.setdefault("CONN_MAX_AGE", env_int("DB_CONN_MAX_AGE", 60))
            config["CONN_HEALTH_CHECKS"] = True
        if config["ENGINE"] == "django.db.backends.sqlite3":
            # A SQLite file named by URL needs the same concurrency settings as the default.
            config["OPTIONS"] = {**_SQLITE_OPTIONS, **config.get("OPTIONS", {})}
        return config
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": DATA_DIR / "zhili.sqlite3",
        "OPTIONS": _SQLITE_OPTIONS,
    }


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": env_int("PASSWORD_MIN_LENGTH", 10)},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "zhili.accounts.passwords.CharacterClassValidator"},
]

# Login lockout and idle expiry (等保 2.0 identity requirements).
ZHILI_LOGIN_MAX_FAILURES = env_int("LOGIN_MAX_FAILURES", 5)
ZHILI_LOGIN_LOCKOUT_MINUTES = env_int("LOGIN_LOCKOUT_MINUTES", 15)
# Personal data shown in clear: how long a stated purpose lasts, and how many a user may state
# in an hour (more looks like harvesting, not casework).
ZHILI_UNMASK_MINUTES = env_int("UNMASK_MINUTES", 15)
ZHILI_UNMASK_MAX_PER_HOUR = env_int("UNMASK_MAX_PER_HOUR", 120)
ZHILI_SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 30)
SESSION_COOKIE_AGE = env_int("SESSION_MAX_HOURS", 12) * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_NAME = "zhili_session"
X_FRAME_OPTIONS = "SAMEORIGIN"
# Behind nginx: believe X-Forwarded-For / X-Forwarded-Proto from the proxy.
ZHILI_TRUSTED_PROXY = env_bool("TRUSTED_PROXY", False)
if ZHILI_TRUSTED_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LANGUAGE_CODE = env_str("LANGUAGE", "zh-hans")
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
ZHILI_WORK_PERIODS = env_str("WORK_PERIODS", "08:30-12:00,13:30-17:30")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env_str(
            "STATICFILES_STORAGE", "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "media/"

# Uploads (imports, photos) are bounded so one request cannot exhaust memory or disk.
ZHILI_MAX_UPLOAD_MB = env_int("MAX_UPLOAD_MB", 20)
DATA_UPLOAD_MAX_MEMORY_SIZE = ZHILI_MAX_UPLOAD_MB * 1024 * 1024
# Registry imports (people): files and row counts are far larger than other uploads.
ZHILI_IMPORT_MAX_MB = env_int("IMPORT_MAX_MB", max(ZHILI_MAX_UPLOAD_MB, 200))
ZHILI_IMPORT_MAX_ROWS = env_int("IMPORT_MAX_ROWS", 1_100_000)
if env_str("IMPORT_PROCESSES", ""):  # unset: worker processes only on 3 or more cores
    ZHILI_IMPORT_PROCESSES = env_int("IMPORT_PROCESSES", 0)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

TASKS = {
    "default": {
        "BACKEND": env_str("TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": [],
    }
}
# A task still RUNNING after this long is considered lost (worker killed) by the sweeper.
ZHILI_TASK_STUCK_MINUTES = env_int("TASK_STUCK_MINUTES", 30)

LOGGING = logging_config(
    level=env_str("LOG_LEVEL", "INFO"), json=env_str("LOG_FORMAT", "console") == "json"
)

NINJA_PAGINATION_MAX_LIMIT = 500
ZHILI_METRICS_TOKEN = env_str("METRICS_TOKEN", "")
ZHILI_MAX_PHOTO_MB = env_int("MAX_PHOTO_MB", 10)
# Outside channels for notifications (SMS, e-mail): classes with send(notification).
ZHILI_NOTIFICATION_BACKENDS = env_list("NOTIFICATION_BACKENDS",
                                       ["zhili.core.notify.LoggingBackend"])
ZHILI_DEMO_PASSWORD = env_str("DEMO_PASSWORD", "Zhili@2026demo")
# The video platform (GB/T 28181) for recordings of outlet cameras (zhili/devices/video.py):
# "wvp", "fake" (demo) or "" (none). Short timeout: a slow platform must not hold a page.
ZHILI_VIDEO_PLATFORM = env_str("VIDEO_PLATFORM", "")
ZHILI_VIDEO_URL = env_str("VIDEO_URL", "")
ZHILI_VIDEO_USER = env_str("VIDEO_USER", "")
ZHILI_VIDEO_PASSWORD = env_str("VIDEO_PASSWORD", "")
ZHILI_VIDEO_TIMEOUT = env_int("VIDEO_TIMEOUT", 6)

# Personal data (PIPL): keys stay outside the database; unset, both kinds are generated into
# $ZHILI_DATA_DIR/pii_keys.json on first use (zhili/core/pii/keys.py).
ZHILI_PII_CIPHER = env_str("PII_CIPHER", "aes")
ZHILI_PII_KEYS = env_str("PII_KEYS", "")
ZHILI_PII_INDEX_KEY = env_str("PII_INDEX_KEY", "")
ZHILI_PII_INDEX_HASH = env_str("PII_INDEX_HASH", "")
