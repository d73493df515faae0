"""Argument checks shared by the whole package, with one wording everywhere.

Every public function checks its arguments here before they reach the C++ core, so that an error
names the argument and the value it got. The core checks its own preconditions again.
"""

from __future__ import annotations

import difflib
import functools
import inspect
import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast

import numpy as np

#: What a file that cannot be read does: fail naming it, or be replaced by another draw of its class.
ON_ERROR = ("raise", "skip")

#: Seeds are 64-bit: every value in [0, 2**64) is valid everywhere.
SEED_LIMIT = 1 << 64

#: Epoch numbers and positions are int64 in the core.
INT64_LIMIT = 1 << 63

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


def is_int(value: object) -> bool:
    """True for Python and NumPy integers, False for bools (which are ints to Python)."""
    return isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, (bool, np.bool_))


def is_number(value: object) -> bool:
    """True for real numbers (ints, floats, NumPy scalars), False for bools."""
    return isinstance(value, (numbers.Real, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def finite_float(value: object) -> float | None:
    """``value`` as a finite float, or None for what is not a number or has no finite float
    (NaN, infinities, ints beyond the float range).

    >>> finite_float(3), finite_float(10**400), finite_float(float("nan")), finite_float("1")
    (3.0, None, None, None)
    """
    if not is_number(value):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]  # a real number, checked above
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def check_int(name: str, value: object, minimum: int | None = None, maximum: int | None = None) -> int:
    """``value`` as an int, or TypeError / ValueError naming ``name`` and the value.

    Examples
    --------
    >>> check_int("batch_size", 32, minimum=1)
    32
    >>> check_int("batch_size", 2.0, minimum=1)
    Traceback (most recent call last):
    TypeError: batch_size must be an integer, got float 2.0
    """
    if not is_int(value):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    number = int(cast(int, value))
    if minimum is not None and number < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {number}")
    if maximum is not None and number > maximum:
        raise ValueError(f"{name} must be <= {maximum:,}, got {number:,}")
    return number


def check_seed(value: object, name: str = "seed") -> int:
    """A seed in [0, 2**64).

    Examples
    --------
    >>> check_seed(2**64 - 1) == 2**64 - 1
    True
    """
    seed = check_int(name, value, minimum=0)
    if seed >= SEED_LIMIT:
        raise ValueError(f"{name} must be < 2**64, got {seed}")
    return seed


def check_bool(name: str, value: object) -> bool:
    """``value`` as a bool; only bools (Python or NumPy) are accepted."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__} {value!r}")
    return bool(value)


def check_choice(name: str, value: T, choices: Sequence[T]) -> T:
    """``value`` if it is one of ``choices``, else ValueError listing them.

    Examples
    --------
    >>> check_choice("on_error", "skip", ON_ERROR)
    'skip'
    """
    if not isinstance(value, str) or value not in choices:
        listed = ", ".join(repr(choice) for choice in choices)
        raise ValueError(f"{name} must be one of {listed}; got {value!r}")
    return value


def unknown_keyword(function: str, name: str, known: Sequence[str]) -> TypeError:
    """The TypeError of Python's own for an unexpected keyword, with the closest known name.

    Examples
    --------
    >>> unknown_keyword("from_directory", "bath_size", ["batch_size", "seed"])
    TypeError("from_directory() got an unexpected keyword argument 'bath_size'; did you mean 'batch_size'?")
    """
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return TypeError(f"{function}() got an unexpected keyword argument {name!r}{hint}")


def suggest_keywords(function: F) -> F:
    """``function`` with its signature kept, whose unknown keyword arguments fail naming it and the
    closest valid argument (Python's own error names neither the closest name nor, for a function
    that passes ``**options`` on, the function that was called)."""
    parameters = inspect.signature(function).parameters
    known = [name for name, p in parameters.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]

    @functools.wraps(function)
    def checked(*args: Any, **kwargs: Any) -> Any:
        for name in kwargs:
            if name not in parameters:
                raise unknown_keyword(function.__name__, name, known)
        return function(*args, **kwargs)

    return cast(F, checked)
