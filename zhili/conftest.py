"""Fixtures for the whole suite."""

import pytest

from zhili.core.testing import World


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
