"""Typed readers for ZHILI_* environment variables.

Every setting an operator can change is read here, so a bad value fails at start-up with the
variable's name instead of misbehaving later.
"""

import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

PREFIX = "ZHILI_"


def env_str(name: str, default: str | None = None) -> str | None:
    """A string setting; `ZHILI_<NAME>_FILE` names a file holding the value (for secrets)."""
    key = PREFIX + name
    file_path = os.environ.get(key + "_FILE")
    if file_path:
        return Path(file_path).read_text(encoding="utf-8").strip()
    return os.environ.get(key, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(PREFIX + name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{PREFIX}{name} must be true or false, not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(PREFIX + name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{PREFIX}{name} must be an integer, not {raw!r}") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(PREFIX + name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def data_dir() -> Path:
    """Where the embedded install keeps its database, secrets, uploads and logs."""
    path = Path(env_str("DATA_DIR", "var")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def generated_secret(directory: Path, filename: str, nbytes: int = 50) -> str:
    """Read a secret kept under the data dir, creating it on first run (never committed)."""
    path = directory / filename
    if not path.exists():
        value = secrets.token_urlsafe(nbytes)
        # O_EXCL: two processes starting together must not write two different secrets.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(value)
    return path.read_text(encoding="utf-8").strip()
