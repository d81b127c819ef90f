import pathlib

import pytest

import typofix

# The shipped model's directory, for tests that load or damage a copy.
SHIPPED = pathlib.Path(__file__).resolve().parents[3] / "crates" / "typofix" / "model"


@pytest.fixture(scope="session")
def corrector() -> typofix.Corrector:
    return typofix.Corrector()
