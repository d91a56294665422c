import pytest

from zhili.delivery.testing import Sector


@pytest.fixture
def sector(world):
    return Sector(world)
