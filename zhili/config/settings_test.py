"""Settings for the test suite: the real settings with fast hashing, inline tasks, temp files."""

import atexit
import os
import shutil
import tempfile

if "ZHILI_DATA_DIR" not in os.environ:
    # One directory for the run (the test workers inherit it), removed when the run ends.
    os.environ["ZHILI_DATA_DIR"] = tempfile.mkdtemp(prefix="zhili-test-")
    atexit.register(shutil.rmtree, os.environ["ZHILI_DATA_DIR"], ignore_errors=True)

from zhili.config.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tasks run inline when their transaction commits, so a test sees the job's outcome.
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LANGUAGE_CODE = "en"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405 - whitenoise warns when missing
# Persistent connections (kept by live-server threads) would block dropping the test database.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
