import pytest

from zhili.disputes.testing import Mediation


@pytest.fixture
def m(world):
    return Mediation(world)
