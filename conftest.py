"""Fixtures for the whole suite."""

import pytest

from zhili.core.testing import World


@pytest.fixture(autouse=True)
def _fresh_caches():
    """Process-local reference caches must not carry rows from one test into the next."""
    from zhili.core.memo import clear_all

    clear_all()
    yield
    clear_all()


@pytest.fixture
def world(db):
    return World()


@pytest.fixture
def personas(world):
    return world.personas


@pytest.fixture
def client_for(client):
    """A test client signed in as a persona (or any user)."""

    def sign_in(persona_or_user):
        user = getattr(persona_or_user, "user", persona_or_user)
        client.force_login(user)
        return client

    return sign_in


@pytest.fixture
def live_db(transactional_db):
    """A committed database (for live servers and real transactions). The audit log refuses
    DELETE, so the guard is lifted just before the end-of-test wipe; the flush's post_migrate
    signal puts it back (see zhili.core.apps)."""
    yield
    from django.db import connection

    from zhili.core import dbguard

    dbguard.remove(connection)


@pytest.fixture(scope="session", autouse=True)
def _close_stray_connections(django_db_setup, django_db_blocker):
    """Live-server request threads may leave PostgreSQL sessions open, which would block
    dropping the test database at the end of the run: end them first."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND pid <> pg_backend_pid()")
