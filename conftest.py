"""Names the package's docstring examples use (pytest --doctest-modules)."""

import numpy as np
import pytest

import fast_balance


@pytest.fixture(autouse=True)
def _doctest_names(doctest_namespace):
    doctest_namespace["np"] = np
    doctest_namespace["fast_balance"] = fast_balance
