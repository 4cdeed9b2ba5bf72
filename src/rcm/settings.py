"""Settings for a deployment, declared once (name, default, help) and read from the environment.

``RCM_ENV=production`` turns the safe defaults on and refuses to start without what production
needs: a secret key and the host names the app answers to. Development (the default, what
``make run`` uses on loopback) needs nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache

from rcm.errors import RcmError

# The key development uses when none is given. Production refuses it.
DEVELOPMENT_KEY = "rcm-development-key-not-secret"
MIN_KEY_LENGTH = 32
# A key must also look random: this many different characters, and at least KEY_BITS estimated as
# length × log2(different characters) (a 32-character hex or url-safe random key passes; 32
# spaces, "k" × 40 or "abcd" × 10 do not).
MIN_KEY_DISTINCT = 10
KEY_BITS = 100


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str


SETTINGS = (
    Setting(
        "RCM_DATABASE_URL",
        "./rcm.db",
        "The database: a SQLite path, or postgresql://user@host/dbname (also `rcm --db`).",
    ),
    Setting(
        "RCM_ENV",
        "development",
        "development or production. Production requires RCM_SECRET_KEY and RCM_ALLOWED_HOSTS, "
        "marks cookies Secure and logs JSON lines.",
    ),
    Setting(
        "RCM_SECRET_KEY",
        "(development: a fixed, public key)",
        f"At least {MIN_KEY_LENGTH} random characters (not blank or repetitive: at least "
        f"{MIN_KEY_DISTINCT} different ones), the same for every worker. Keys the session "
        "tokens stored in the database and the questionnaires' signatures, so that a copy of the "
        "database alone can neither take over a session nor forge a country's questionnaire. "
        "Changing it signs everyone out and voids questionnaires already sent. Also signs the "
        "sign-in form's token.",
    ),
    Setting(
        "RCM_ALLOWED_HOSTS",
        "(development: any)",
        "Comma-separated host names the app answers to (the Host header), e.g. "
        "rcm.example.org; others get 400. Required in production.",
    ),
    Setting(
        "RCM_SECURE_COOKIES",
        "(production: on)",
        "on or off: send cookies only over HTTPS. On by default in production.",
    ),
    Setting(
        "RCM_LOG_FORMAT",
        "(production: json, else text)",
        "json (one JSON object per line: requests and every consultation change) or text.",
    ),
    Setting("RCM_LOG_LEVEL", "info", "debug, info, warning or error."),
    Setting(
        "RCM_FORWARDED_ALLOW_IPS",
        "127.0.0.1",
        "The reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are trusted "
        "(uvicorn's --forwarded-allow-ips), so logs show the client's address and failed "
        "sign-ins are counted for it (not for the proxy's).",
    ),
    Setting(
        "RCM_SMTP_HOST",
        "(none: no e-mail is sent)",
        "The SMTP server that sends the rounds' invitations and reminders (rcm.mail). Unset: "
        "nothing is sent, and every message is recorded as not sent.",
    ),
    Setting(
        "RCM_SMTP_PORT",
        "(587 with STARTTLS, 465 with SSL, else 25)",
        "The SMTP server's port.",
    ),
    Setting("RCM_SMTP_USER", "(none: no login)", "The SMTP account, if the server wants a login."),
    Setting(
        "RCM_SMTP_PASSWORD",
        "(none)",
        "The SMTP account's password (never logged, never audited).",
    ),
    Setting(
        "RCM_SMTP_STARTTLS",
        "on",
        "on or off: upgrade the connection with STARTTLS before the login (port 587).",
    ),
    Setting(
        "RCM_SMTP_SSL",
        "off",
        "on or off: TLS from the first byte (port 465); then RCM_SMTP_STARTTLS is not used.",
    ),
    Setting(
        "RCM_MAIL_FROM",
        "(required with RCM_SMTP_HOST)",
        'The sender of every message, e.g. "RCM Technical Secretariat <rcm@example.org>".',
    ),
    Setting(
        "RCM_PUBLIC_URL",
        "(required with RCM_SMTP_HOST)",
        "The address people open the site at, e.g. https://rcm.example.org: the links in "
        "messages start with it.",
    ),
    Setting(
        "RCM_CACHE_MAX_AGE",
        "10",
        "Seconds a browser or a shared cache (a reverse proxy, a CDN) may keep a public page or "
        "API answer without asking again (Cache-Control max-age); after that it revalidates with "
        "its ETag (a 304 when nothing was written). 0: every request revalidates, so no reader "
        "ever sees a page older than the last write. See docs/deploy.md.",
    ),
    Setting(
        "RCM_CACHE_STALE",
        "30",
        "Seconds after max-age a cache may still serve the old answer while it revalidates in "
        "the background (stale-while-revalidate).",
    ),
)


class ConfigError(RcmError):
    """A deployment setting is missing or wrong: the app does not start."""

    status = 500
    exit_code = 1


@dataclass(frozen=True)
class Config:
    env: str
    secret_key: str
    allowed_hosts: tuple[str, ...]  # ("*",) = any
    secure_cookies: bool
    log_format: str
    log_level: str
    forwarded_allow_ips: str
    mail: MailSettings | None = None  # None: RCM_SMTP_HOST is not set, no e-mail is sent
    cache_max_age: int = 10
    cache_stale: int = 30

    @property
    def production(self) -> bool:
        return self.env == "production"


@dataclass(frozen=True)
class MailSettings:
    """How to reach the SMTP server (``rcm.mail``). The password is never shown (``repr``)."""

    host: str
    port: int
    user: str
    password: str = field(repr=False)
    starttls: bool
    ssl: bool
    sender: str  # the From header, e.g. "RCM Technical Secretariat <rcm@example.org>"
    public_url: str  # without a trailing slash
    timeout: float = 20.0  # seconds for the connection and each SMTP command


def load_mail(env_vars: Mapping[str, str]) -> MailSettings | None:
    """The SMTP settings from ``env_vars``, checked; None when RCM_SMTP_HOST is not set."""
    from email.utils import getaddresses
    from urllib.parse import urlsplit

    host = env_vars.get("RCM_SMTP_HOST", "").strip()
    if not host:
        return None
    use_ssl = _flag("RCM_SMTP_SSL", env_vars.get("RCM_SMTP_SSL", "") or "off")
    starttls = not use_ssl and _flag(
        "RCM_SMTP_STARTTLS", env_vars.get("RCM_SMTP_STARTTLS", "") or "on"
    )
    raw_port = env_vars.get("RCM_SMTP_PORT", "").strip()
    port = 465 if use_ssl else 587 if starttls else 25
    if raw_port:
        if not (raw_port.isascii() and raw_port.isdigit() and 0 < int(raw_port) < 65536):
            raise ConfigError(
                "RCM_SMTP_PORT must be a port number, not %(value)s", value=repr(raw_port)
            )
        port = int(raw_port)
    sender = env_vars.get("RCM_MAIL_FROM", "").strip()
    found = getaddresses([sender]) if sender else []
    if len(found) != 1 or "@" not in found[0][1] or not sender.isprintable():
        raise ConfigError(
            "RCM_MAIL_FROM is required with RCM_SMTP_HOST: one sender such as "
            '"RCM Technical Secretariat <rcm@example.org>"'
        )
    url = env_vars.get("RCM_PUBLIC_URL", "").strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or not url.isprintable():
        raise ConfigError(
            "RCM_PUBLIC_URL is required with RCM_SMTP_HOST: the site's address for the links "
            "in messages, e.g. https://rcm.example.org"
        )
    return MailSettings(
        host=host,
        port=port,
        user=env_vars.get("RCM_SMTP_USER", "").strip(),
        password=env_vars.get("RCM_SMTP_PASSWORD", ""),
        starttls=starttls,
        ssl=use_ssl,
        sender=sender,
        public_url=url,
    )


def _flag(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "on", "yes", "true"):
        return True
    if value in ("0", "off", "no", "false"):
        return False
    raise ConfigError("%(name)s must be on or off, not %(value)s", name=name, value=repr(raw))


# How to make a good key, as the errors about a weak one say it.
KEY_COMMAND = 'python -c "import secrets; print(secrets.token_urlsafe(48))"'


def _check_key_strength(key: str) -> None:
    """A guessable secret key is an error saying why: blank, a short piece repeated, too
    uniform (each a whole sentence, translated as one)."""
    if not key.strip():
        raise ConfigError(
            "RCM_SECRET_KEY is blank: use a long random value (e.g. %(command)s)",
            command=KEY_COMMAND,
        )
    distinct = len(set(key))
    if any(
        len(key) % size == 0 and key == key[:size] * (len(key) // size)
        for size in range(1, len(key) // 2 + 1)
    ):
        raise ConfigError(
            "RCM_SECRET_KEY is a short piece repeated: use a long random value (e.g. %(command)s)",
            command=KEY_COMMAND,
        )
    if distinct < MIN_KEY_DISTINCT or len(key) * math.log2(distinct) < KEY_BITS:
        raise ConfigError(
            "RCM_SECRET_KEY is too uniform (%(n)s different characters; at least %(min)s): use a "
            "long random value (e.g. %(command)s)",
            n=distinct,
            min=MIN_KEY_DISTINCT,
            command=KEY_COMMAND,
        )


def load(environ: Mapping[str, str] | None = None) -> Config:
    """The settings from ``environ`` (default: the process environment), checked."""
    env_vars = os.environ if environ is None else environ
    env = env_vars.get("RCM_ENV", "development").strip().lower() or "development"
    if env not in ("development", "production"):
        raise ConfigError(
            "RCM_ENV must be development or production, not %(value)s", value=repr(env)
        )
    production = env == "production"
    key = env_vars.get("RCM_SECRET_KEY", "")
    if production:
        if not key:
            raise ConfigError(
                "RCM_SECRET_KEY is required in production: set it to a long random value, the "
                "same for every worker (e.g. %(command)s)",
                command=KEY_COMMAND,
            )
        if key == DEVELOPMENT_KEY or len(key) < MIN_KEY_LENGTH:
            raise ConfigError(
                "RCM_SECRET_KEY must be at least %(n)s characters and not the development key",
                n=MIN_KEY_LENGTH,
            )
        _check_key_strength(key)
    hosts = tuple(
        h.strip().lower() for h in env_vars.get("RCM_ALLOWED_HOSTS", "").split(",") if h.strip()
    )
    if production and (not hosts or "*" in hosts):
        raise ConfigError(
            "RCM_ALLOWED_HOSTS is required in production: the host names the app answers to, "
            "comma-separated (e.g. rcm.example.org), not *"
        )
    raw_secure = env_vars.get("RCM_SECURE_COOKIES", "")
    secure = _flag("RCM_SECURE_COOKIES", raw_secure) if raw_secure else production
    log_format = env_vars.get("RCM_LOG_FORMAT", "").strip().lower() or (
        "json" if production else "text"
    )
    if log_format not in ("json", "text"):
        raise ConfigError(
            "RCM_LOG_FORMAT must be json or text, not %(value)s", value=repr(log_format)
        )
    level = env_vars.get("RCM_LOG_LEVEL", "info").strip().lower() or "info"
    if level not in ("debug", "info", "warning", "error"):
        raise ConfigError(
            "RCM_LOG_LEVEL must be debug, info, warning or error, not %(value)s", value=repr(level)
        )
    max_age, stale = (
        _seconds(name, env_vars.get(name, default))
        for name, default in (("RCM_CACHE_MAX_AGE", "10"), ("RCM_CACHE_STALE", "30"))
    )
    return Config(
        env=env,
        secret_key=key or DEVELOPMENT_KEY,
        allowed_hosts=hosts or ("*",),
        secure_cookies=secure,
        log_format=log_format,
        log_level=level,
        forwarded_allow_ips=env_vars.get("RCM_FORWARDED_ALLOW_IPS", "127.0.0.1").strip()
        or "127.0.0.1",
        mail=load_mail(env_vars),
        cache_max_age=max_age,
        cache_stale=stale,
    )


def _seconds(name: str, raw: str) -> int:
    value = raw.strip()
    if not value.isdigit() or int(value) > 31_536_000:
        raise ConfigError(
            "%(name)s must be a number of seconds (0 to 31536000), not %(value)s",
            name=name,
            value=repr(raw),
        )
    return int(value)


@cache
def current() -> Config:
    """The process's settings, read once."""
    return load()


def keyed(purpose: str, value: str) -> str:
    """HMAC-SHA256 of ``value`` under the secret key, separated by ``purpose``."""
    key = hmac.new(current().secret_key.encode(), purpose.encode(), hashlib.sha256).digest()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


# Characters that must never reach a log as they are: controls (a newline forges a log line, a NUL
# makes the log binary), line and paragraph separators, and format characters (bidirectional
# overrides that reorder what a reader sees, zero-width characters, the BOM): every character of
# Unicode's categories Cc, Cf, Zl, Zp, and surrogates (Cs). tests/test_logging.py checks the list
# against unicodedata.
_UNPRINTABLE = (
    r"\x00-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e"
    r"\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ud800-\udfff\ufeff\ufff9-\ufffb"
    r"\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    r"\U000e0001\U000e0020-\U000e007f"
)
_TEXT_UNSAFE = re.compile(rf"[{_UNPRINTABLE}\\]")  # and the backslash, so escapes are unambiguous
_JSON_UNSAFE = re.compile(f"[{_UNPRINTABLE}]")


def _text_escape(match: re.Match[str]) -> str:
    n = ord(match.group())
    if n == 0x5C:
        return "\\\\"
    return f"\\x{n:02x}" if n < 0x100 else f"\\u{n:04x}" if n < 0x10000 else f"\\U{n:08x}"


def _json_escape(match: re.Match[str]) -> str:
    n = ord(match.group())
    if n < 0x10000:
        return f"\\u{n:04x}"
    n -= 0x10000  # JSON writes a character beyond the BMP as a UTF-16 surrogate pair
    return f"\\u{0xD800 + (n >> 10):04x}\\u{0xDC00 + (n & 0x3FF):04x}"


def escape_for_log(text: str) -> str:
    """``text`` with every control, separator and format character (and the backslash) written
    as a Python escape: ``\\n`` becomes ``\\x0a``, U+202E ``\\u202e``."""
    return _TEXT_UNSAFE.sub(_text_escape, text)


class TextFormatter(logging.Formatter):
    """Development logs: ``time LEVEL logger: message`` on one line whatever the message holds
    (user text, a request's decoded path, the arguments of the message are escaped); a traceback
    follows on lines that are indented, so that none can pass for a log line."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        record.message = record.getMessage()
        record.asctime = self.formatTime(record, self.datefmt)
        text = escape_for_log(self.formatMessage(record))
        more = []
        if record.exc_info:
            more.append(self.formatException(record.exc_info))
        if record.stack_info:
            more.append(self.formatStack(record.stack_info))
        for block in more:
            text += "".join("\n  " + escape_for_log(line) for line in block.splitlines())
        return text


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the record's ``fields``. Control,
    separator and format characters are written as JSON escapes (``\\u2028``, ``\\u202e``), so
    the line reads back to the same text and shows nothing hidden to someone reading the log."""

    def format(self, record: logging.LogRecord) -> str:
        import json
        from datetime import UTC, datetime

        data = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            data["error"] = self.formatException(record.exc_info)
        # json.dumps already escapes U+0000–U+001F; these can only stand inside strings.
        return _JSON_UNSAFE.sub(_json_escape, json.dumps(data, ensure_ascii=False, default=str))


def configure_logging(config: Config | None = None) -> None:
    """The "rcm" loggers to standard error, as JSON lines or text (idempotent)."""
    config = config or current()
    logger = logging.getLogger("rcm")
    logger.setLevel(config.log_level.upper())
    for handler in list(logger.handlers):
        if getattr(handler, "rcm", False):
            logger.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.rcm = True  # type: ignore[attr-defined]
    handler.setFormatter(JsonFormatter() if config.log_format == "json" else TextFormatter())
    logger.addHandler(handler)
    logger.propagate = False
