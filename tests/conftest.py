import pytest

from agreements.demo import load_demo


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """PBKDF2's deliberate slowness is no help in tests that create many users."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def demo_agreement(db):
    """The complete demo SLA of the Muster AG, with its users."""
    return load_demo()
