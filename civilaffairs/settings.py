"""Settings for 五五督查, read from environment variables only (README lists every one)."""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.utils.translation import gettext_lazy as _

from civilaffairs.envtools import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)
# Without SECRET_KEY the app runs with a development key; `check --deploy` flags that, and
# production must set it (or SECRET_KEY_FILE).
SECRET_KEY = env_str("SECRET_KEY") or "django-insecure-development-key-set-SECRET_KEY-in-production"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
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
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_htmx",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "civilaffairs",
    "inspections",
    "rectification",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "civilaffairs.headers.ApiNoStoreMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "civilaffairs.middleware.RequestContextMiddleware",
    # Sign-in attempts per client address (RATE_LIMITS["login"]).
    "civilaffairs.ratelimit.LoginRateLimitMiddleware",
    # Idle and absolute session limits (after auth, messages, htmx and the request context).
    "civilaffairs.session_security.SessionLimitsMiddleware",
    # A second step or an expired password owed: only the page that settles it.
    "civilaffairs.auth_middleware.AuthGateMiddleware",
    # Last, as django-axes asks: turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "civilaffairs.urls"
WSGI_APPLICATION = "civilaffairs.wsgi.application"
AUTH_USER_MODEL = "civilaffairs.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "civilaffairs.context_processors.navigation",
            ],
        },
    },
]

# --- Database and Redis: environment, or the embedded default -----------------------------
_database_url = env_str("DATABASE_URL")
_redis_url = env_str("REDIS_URL")
EMBEDDED_SERVICES = not (_database_url and _redis_url)
if not _database_url:
    from civilaffairs import embedded

    _database_url = embedded.database_url()
if not _redis_url:
    from civilaffairs import embedded

    _redis_url = embedded.redis_url()

DATABASES = {
    "default": dj_database_url.parse(
        _database_url, conn_max_age=env_int("DB_CONN_MAX_AGE", 60), conn_health_checks=True
    )
}
DATABASES["default"].setdefault("OPTIONS", {})
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = _redis_url


def _redis_with_db(url: str, db: int) -> str:
    """The same server with another logical database (cache and broker are kept apart)."""
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.scheme == "unix":
        query = dict(parse_qsl(parts.query))
        query["db"] = str(db)
        # urlunsplit would drop the empty authority ("unix:/path"); redis-py wants "unix:///path".
        return f"unix://{parts.path}?{urlencode(query)}"
    return urlunsplit(parts._replace(path=f"/{db}"))


def _celery_url(url: str) -> str:
    """Kombu spells a Redis Unix socket ``redis+socket://``."""
    if url.startswith("unix://"):
        from urllib.parse import parse_qsl, urlsplit

        parts = urlsplit(url)
        db = dict(parse_qsl(parts.query)).get("db", "0")
        return f"redis+socket://{parts.path}?virtual_host={db}"
    return url


# The cache only holds what can be recomputed: with Redis unreachable it answers as an empty
# cache (a warning in the log, no error) and is not retried for REDIS_DOWN_RETRY_AFTER seconds.
_cache_timeout = float(env_str("CACHE_REDIS_TIMEOUT", "1"))
CACHES = {
    "default": {
        "BACKEND": "civilaffairs.cache.ResilientRedisCache",
        "LOCATION": _redis_with_db(REDIS_URL, 1),
        "KEY_PREFIX": "civilaffairs",
        "OPTIONS": {
            "socket_connect_timeout": _cache_timeout,
            "socket_timeout": _cache_timeout,
            "DOWN_RETRY_AFTER": env_int("REDIS_DOWN_RETRY_AFTER", 10),
        },
    }
}

CELERY_BROKER_URL = _celery_url(_redis_with_db(REDIS_URL, 0))
CELERY_RESULT_BACKEND = _celery_url(_redis_with_db(REDIS_URL, 2))
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 3600
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 30 * 60)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
# Queuing happens after a request's commit: with the broker down it must give up quickly (the
# periodic sweeps deliver later) rather than hold the user's request.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
# After a failed queuing, requests do not try the broker again for this many seconds.
BROKER_DOWN_RETRY_AFTER = env_int("BROKER_DOWN_RETRY_AFTER", 30)
# A task is acknowledged when it has run, not when it starts: a worker killed mid-task (OOM,
# deploy, lost host) leaves its message to be delivered again. Every task is idempotent (claims
# by conditional UPDATE or unique rows). Redis hands an unacknowledged message to another
# worker after the visibility timeout, which must exceed the longest task.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int(
        "CELERY_VISIBILITY_TIMEOUT", max(3600, 2 * CELERY_TASK_TIME_LIMIT)
    ),
    "socket_connect_timeout": 2,
}

# --- Internationalisation -----------------------------------------------------------------
# The UI is Simplified Chinese for everyone, whatever language a browser asks for: no
# LocaleMiddleware. Msgids are English; locale/zh_Hans holds the catalog.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- Static files and media ---------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Third-party front-end packages are pinned in package.json, installed by `npm ci` at set-up and
# copied into static/vendor/ (ignored by git) by `manage.py vendor_assets`.
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
# Media is never served by URL: every file goes through the authenticated attachment view.
MEDIA_URL = "/media-not-served/"

_s3_bucket = env_str("MEDIA_S3_BUCKET")
if _s3_bucket:
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": _s3_bucket,
            "endpoint_url": env_str("MEDIA_S3_ENDPOINT_URL"),
            "access_key": env_str("MEDIA_S3_ACCESS_KEY"),
            "secret_key": env_str("MEDIA_S3_SECRET_KEY"),
            "region_name": env_str("MEDIA_S3_REGION", "us-east-1"),
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
            "addressing_style": env_str("MEDIA_S3_ADDRESSING_STYLE", "path"),
        },
    }
else:
    _default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT), "base_url": MEDIA_URL},
    }
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env_bool("STATIC_MANIFEST", not DEBUG)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_MAX_AGE = env_int("STATIC_MAX_AGE", 3600)
# Source maps are for developers' tools only: not worth compressing (saves most of the
# collectstatic time, the API-docs bundle ships large ones).
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = [
    "jpg",
    "jpeg",
    "png",
    "gif",
    "webp",
    "zip",
    "gz",
    "tgz",
    "bz2",
    "tbz",
    "xz",
    "br",
    "swf",
    "flv",
    "woff",
    "woff2",
    "3gp",
    "3gpp",
    "asf",
    "avi",
    "m4v",
    "mov",
    "mp4",
    "mpeg",
    "mpg",
    "webm",
    "wmv",
    "map",
]
ATTACHMENT_MAX_BYTES = env_int("ATTACHMENT_MAX_BYTES", 20 * 1024 * 1024)
# Data rows one Excel import file may hold (civilaffairs.imports).
IMPORT_MAX_ROWS = env_int("IMPORT_MAX_ROWS", 5000)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Security -----------------------------------------------------------------------------
# Password policy (等保): length, character classes (of upper, lower, digit, symbol), maximum
# age in days (0: never expires) and how many recent passwords may not be reused
# (civilaffairs.passwords; the history validator also stamps User.password_changed_at).
PASSWORD_MIN_LENGTH = env_int("PASSWORD_MIN_LENGTH", 8)
PASSWORD_MIN_CLASSES = env_int("PASSWORD_MIN_CLASSES", 3)
PASSWORD_MAX_AGE_DAYS = env_int("PASSWORD_MAX_AGE_DAYS", 90)
PASSWORD_HISTORY = env_int("PASSWORD_HISTORY", 5)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "civilaffairs.passwords.MinimumLengthValidator"},
    {"NAME": "civilaffairs.passwords.CharacterClassesValidator"},
    {"NAME": "civilaffairs.passwords.PasswordHistoryValidator"},
]
# Lockout (django-axes) after AXES_FAILURE_LIMIT failed sign-ins of one username from one client
# address, on every sign-in path (login page, administration, API token, second-step codes),
# for AXES_COOLOFF_MINUTES (0: until a system administrator unlocks). Per username and address:
# see civilaffairs.security. The address is the one the audit trail uses (TRUSTED_PROXY_COUNT).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
_axes_cooloff = env_int("AXES_COOLOFF_MINUTES", 30)
AXES_COOLOFF_TIME = timedelta(minutes=_axes_cooloff) if _axes_cooloff > 0 else None
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "civilaffairs.middleware.client_ip"
AXES_LOCKOUT_CALLABLE = "civilaffairs.security.lockout_response"
# A try while locked out changes nothing (it does not extend the lockout either).
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Sign-ins are recorded in the audit trail; axes keeps only the failure counters.
AXES_DISABLE_ACCESS_LOG = True
AXES_ENABLE_ADMIN = False
# No start-up banner on every command; failures are still logged (username and address masked).
AXES_VERBOSE = False
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "otp", "otp_token"]
# Two-factor sign-in (TOTP, django-otp): required for these roles, optional for the others.
OTP_REQUIRED_ROLES = env_list(
    "OTP_REQUIRED_ROLES", ["sysadmin", "auditor", "office_head", "leader"]
)
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "五五督查")
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600)
# Sessions live in the database, in a table that knows whose each session is, so disabling an
# account ends all its sessions (civilaffairs.session_store). The server signs a person out
# after SESSION_IDLE_MINUTES without activity (automatic polling does not count) and
# SESSION_ABSOLUTE_HOURS after the sign-in, whatever the activity; 0 turns a limit off.
SESSION_ENGINE = "civilaffairs.session_store"
SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 30)
SESSION_ABSOLUTE_HOURS = env_int("SESSION_ABSOLUTE_HOURS", 8)
# Accounts nobody signed in to for this many days (since the last sign-in, or since creation
# for accounts never used) are disabled by a nightly job; 0 turns it off.
ACCOUNT_IDLE_DAYS = env_int("ACCOUNT_IDLE_DAYS", 90)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Content-Security-Policy (django-csp): every script is a file served by the application, so
# no 'unsafe-inline' and no 'unsafe-eval' anywhere, for styles neither: no style attributes
# in markup (scripts set styles through the DOM, which the policy allows; the dashboard's
# chart tooltips are built as DOM nodes for that reason) and no <style> elements (htmx's
# indicator styles are off in base.html) except the flash report's and the 500 page's, which
# carry the request's nonce (the flash report shares its stylesheet with the PDF renderer).
# img-src: Bootstrap's CSS draws icons from data: URIs; the inspector's phone previews photos
# from blob: URLs. The tests (tests/test_security_headers.py) scan templates and scripts,
# crawl the pages as every role, and watch Chromium for violations.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "worker-src": [SELF],
        "manifest-src": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}
# Production serves over HTTPS (behind a TLS-terminating proxy): HTTPS=1 turns on secure cookies,
# the redirect and HSTS. Off by default so the demo works on http://localhost.
_https = env_bool("HTTPS", False)
SESSION_COOKIE_SECURE = _https
CSRF_COOKIE_SECURE = _https
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", _https)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if _https else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", _https)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", _https)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
if env_bool("USE_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The number of trusted proxies in front of gunicorn; the client IP for the audit trail is
# taken that many hops from the right of X-Forwarded-For.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
# Personal data at rest (civilaffairs.crypto): base64 AES-256 keys, comma-separated; the first
# encrypts, all decrypt (rotate: put a new key first, run `manage.py rotate_field_keys`). The
# blind index key (HMAC of phones and ID numbers for look-ups) is separate. Unset, both are
# derived from SECRET_KEY (development only; `check --deploy` flags it).
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEYS", [])
BLIND_INDEX_KEY = env_str("BLIND_INDEX_KEY", "")

# --- E-mail -------------------------------------------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "wuwu@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- REST API -----------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "civilaffairs.api.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["civilaffairs.api.permissions.DenyByDefault"],
    "DEFAULT_FILTER_BACKENDS": [
        "civilaffairs.api.filters.FilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "civilaffairs.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "civilaffairs.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "civilaffairs.api.exceptions.exception_handler",
    # Views name a scope per method (throttle_scopes); rates are RATE_LIMITS below.
    "DEFAULT_THROTTLE_CLASSES": ["civilaffairs.api.throttling.ScopedRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
}
FILTERS_EMPTY_CHOICE_LABEL = _("All")
SPECTACULAR_SETTINGS = {
    "TITLE": "五五督查 API",
    "DESCRIPTION": "REST API of 五五督查: the same services and visibility rules as the pages.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # One name per choice set, so clients get stable enum types.
    "ENUM_NAME_OVERRIDES": {
        "OrgKindEnum": "civilaffairs.choices.OrgKind",
        "InstitutionTypeEnum": "civilaffairs.choices.InstitutionType",
        "RoleEnum": "civilaffairs.choices.Role",
        "BottomLineEnum": "civilaffairs.choices.BottomLine",
        "CornerstoneEnum": "civilaffairs.choices.Cornerstone",
        "InspectionMethodEnum": "inspections.choices.InspectionMethod",
        "PlanStateEnum": "inspections.choices.PlanState",
        "VisitStateEnum": "inspections.choices.VisitState",
        "FindingStateEnum": "inspections.choices.FindingState",
        "SeverityEnum": "inspections.choices.Severity",
        "CategoryEnum": "inspections.choices.Category",
        "DispositionEnum": "inspections.choices.Disposition",
        "OutcomeEnum": "inspections.choices.Outcome",
        "PhotoKindEnum": "inspections.choices.PhotoKind",
        "FindingSourceEnum": "inspections.choices.FindingSource",
        "ScopeModeEnum": "inspections.choices.ScopeMode",
        "RectificationStateEnum": "rectification.choices.RectificationState",
        "SourceTypeEnum": "rectification.choices.SourceType",
        "PriorityEnum": "rectification.choices.Priority",
        "ExtensionStateEnum": "rectification.choices.ExtensionState",
        "ComplaintChannelEnum": "rectification.choices.ComplaintChannel",
        "ComplaintDomainEnum": "rectification.choices.ComplaintDomain",
        "ComplaintNatureEnum": "rectification.choices.ComplaintNature",
        "ComplaintStateEnum": "rectification.choices.ComplaintState",
        "SatisfactionEnum": "rectification.choices.Satisfaction",
        "ReplyTargetEnum": "rectification.choices.ReplyTarget",
        "CommitmentStandingEnum": "rectification.choices.CommitmentStanding",
        "LineStatusEnum": "reports.choices.LineStatus",
        "FlashStateEnum": "reports.choices.FlashState",
    },
}

# --- Logging ------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

# --- Product settings ---------------------------------------------------------------------
SITE_NAME = "五五督查"
DEMO_PASSWORD = env_str("DEMO_PASSWORD", "Wuwu@2026")
HEALTHZ_CELERY_TIMEOUT = float(env_str("HEALTHZ_CELERY_TIMEOUT", "1.5"))
CSRF_FAILURE_VIEW = "civilaffairs.views.system.csrf_failure"

# --- Rectification: deadlines, alerts, repeat problems, scorecards -------------------------
# Working days a unit gets by default, by the finding's severity.
RECTIFICATION_DEFAULT_DAYS = {
    "major": env_int("RECTIFICATION_DAYS_MAJOR", 5),
    "serious": env_int("RECTIFICATION_DAYS_SERIOUS", 10),
    "general": env_int("RECTIFICATION_DAYS_GENERAL", 15),
}
# Yellow warning when this many working days or fewer are left.
RECTIFICATION_DUE_SOON_DAYS = env_int("RECTIFICATION_DUE_SOON_DAYS", 3)
# Escalation ladder: who is alerted after how many working days overdue (each level from that
# day on, once a day), "level:days" separated by commas.
RECTIFICATION_ESCALATION = env_str(
    "RECTIFICATION_ESCALATION", "liaison:1,unit_head:3,office:5,leader:8"
)
# A finding of the same category at the same unit within this many months is a repeat.
REPEAT_PROBLEM_MONTHS = env_int("REPEAT_PROBLEM_MONTHS", 6)
# Unit scorecards: a yellow / red card when the on-time rate falls below (percent) or the
# number of overdue orders reaches these thresholds.
SCORECARD_YELLOW_ON_TIME_RATE = env_int("SCORECARD_YELLOW_ON_TIME_RATE", 90)
SCORECARD_RED_ON_TIME_RATE = env_int("SCORECARD_RED_ON_TIME_RATE", 70)
SCORECARD_YELLOW_OVERDUE = env_int("SCORECARD_YELLOW_OVERDUE", 1)
SCORECARD_RED_OVERDUE = env_int("SCORECARD_RED_OVERDUE", 3)
# Complaints: working days to reply by nature, "nature:days" separated by commas (natures not
# named keep their defaults: consultation 2, personal 10, attitude 10, suggestion 15, report 15).
COMPLAINT_DEADLINE_DAYS = env_str("COMPLAINT_DEADLINE_DAYS", "")

# --- Notifications -------------------------------------------------------------------------
# SMS gateway: the logging backend records what would be sent (the bureau plugs its gateway in
# with a class of the same interface).
SMS_BACKEND = env_str("SMS_BACKEND", "civilaffairs.sms.LoggingBackend")
WEBHOOK_TIMEOUT = float(env_str("WEBHOOK_TIMEOUT", "5"))
# Where links in e-mails and robot messages point (the intranet address of the site).
SITE_URL = env_str("SITE_URL", "http://localhost:8000").rstrip("/")

# --- Background jobs: large ledgers and briefs ------------------------------------------------
# A list exports at once up to this many rows; larger exports run in a worker with a progress bar.
EXPORT_SYNC_LIMIT = env_int("EXPORT_SYNC_LIMIT", 5000)
# Unfinished jobs one person may have at a time.
JOBS_MAX_ACTIVE_PER_USER = env_int("JOBS_MAX_ACTIVE_PER_USER", 3)
# Generated ledgers are removed after this many days (briefs are kept).
JOBS_EXPORT_KEEP_DAYS = env_int("JOBS_EXPORT_KEEP_DAYS", 7)
# A running job's worker marks it alive every JOBS_HEARTBEAT_SECONDS; one silent for
# JOBS_LEASE_SECONDS lost its worker and is run again, at most JOBS_MAX_ATTEMPTS times in all.
JOBS_HEARTBEAT_SECONDS = env_int("JOBS_HEARTBEAT_SECONDS", 10)
JOBS_LEASE_SECONDS = env_int("JOBS_LEASE_SECONDS", 60)
JOBS_MAX_ATTEMPTS = env_int("JOBS_MAX_ATTEMPTS", 3)

# --- Backups (manage.py backup / restore) -----------------------------------------------------
BACKUP_DIR = Path(env_str("BACKUP_DIR", str(BASE_DIR / "var" / "backups")))
# Where pg_dump/pg_restore of the server's major version live, if not found by themselves.
PG_BIN_DIR = env_str("PG_BIN_DIR", "")

# --- Audit trail ----------------------------------------------------------------------------

# Audit events are kept this many days, then purged nightly (civilaffairs.auditchain). The law
# asks for at least 180 (six months): a smaller value is refused here, at start-up.
AUDIT_RETENTION_DAYS = env_int("AUDIT_RETENTION_DAYS", 180)
if AUDIT_RETENTION_DAYS < 180:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        f"AUDIT_RETENTION_DAYS={AUDIT_RETENTION_DAYS}: audit events must be kept at least 180 "
        "days (审计记录至少保存180天); set 180 or more."
    )

# --- Leadership dashboard -------------------------------------------------------------------
# Figures older than this (seconds) are recomputed when the page is opened; a task refreshes
# the dashboards people looked at recently in the background.
DASHBOARD_MAX_AGE = env_int("DASHBOARD_MAX_AGE", 600)

# A list with no filter at all over a table of more rows than this shows PostgreSQL's estimate
# of its size ("about N") instead of counting every row (civilaffairs.counting); 0: always count.
LIST_COUNT_ESTIMATE_ABOVE = env_int("LIST_COUNT_ESTIMATE_ABOVE", 100_000)
# The unit and plan choices of the filter bars are kept in the cache until a unit or plan is
# saved or deleted, and at most this many seconds (civilaffairs.choice_cache); 0: read each time.
CHOICE_CACHE_SECONDS = env_int("CHOICE_CACHE_SECONDS", 300)
# The daily digest lists at most this many overdue orders (the longest overdue; it counts all).
DIGEST_OVERDUE_LIMIT = env_int("DIGEST_OVERDUE_LIMIT", 100)
# The digest PDF of a period with more units than this lists only the units that need attention
# (late, missing, an abnormal line) and counts the rest; the workbook always lists every unit.
DIGEST_PDF_ALL_UNITS_UP_TO = env_int("DIGEST_PDF_ALL_UNITS_UP_TO", 200)
# The digest PDF lists at most this many of the day's new findings (the most severe first);
# the workbook lists them all.
DIGEST_PDF_FINDINGS_LIMIT = env_int("DIGEST_PDF_FINDINGS_LIMIT", 100)

# --- Rate limits (pages and API) -----------------------------------------------------------
# "count/period" (period s, m, h or d) per caller; empty: no limit. Signing in counts per client
# address, the rest per signed-in user (the public commitments page per address). With the cache
# (Redis) down, requests are let through and a warning is logged.
RATE_LIMITS = {
    "login": env_str("LOGIN_RATE_LIMIT", "20/m"),
    "export": env_str("EXPORT_RATE_LIMIT", "20/m"),
    "brief": env_str("BRIEF_RATE_LIMIT", "10/m"),
    "dashboard_refresh": env_str("DASHBOARD_REFRESH_RATE_LIMIT", "10/m"),
    "import": env_str("IMPORT_RATE_LIMIT", "30/m"),
    "upload": env_str("UPLOAD_RATE_LIMIT", "120/m"),
    "public": env_str("PUBLIC_RATE_LIMIT", "60/m"),
}
