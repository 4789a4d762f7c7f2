"""Argument checks whose errors name the parameter, what is allowed and what was given."""

import numbers

import numpy as np

__all__ = [
    "check_option",
    "check_positive_int",
    "check_positive_float",
    "check_device_name",
    "check_device",
    "DTYPES",
]

#: Floating-point types a fit can run in (names of torch dtypes).
DTYPES = ("float32", "float64")


def check_option(name, value, allowed):
    """Raise ValueError unless ``value`` is one of ``allowed``.

    Returns
    -------
    value
    """
    if value not in allowed:
        options = ", ".join(repr(option) for option in allowed)
        raise ValueError(
            f"Invalid value for the '{name}' parameter. Allowed values are {options}, "
            f"but got {value!r} instead."
        )
    return value


def check_positive_int(name, value, minimum=1):
    """Raise unless ``value`` is an integer of at least ``minimum``.

    Returns
    -------
    int
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"'{name}' must be an integer, got {type(value).__name__} {value!r}.")
    if value < minimum:
        raise ValueError(f"'{name}' must be at least {minimum}, got {value}.")
    return int(value)


def check_positive_float(name, value, allow_zero=False):
    """Raise unless ``value`` is a finite positive number (or zero if allowed).

    Returns
    -------
    float
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"'{name}' must be a number, got {type(value).__name__} {value!r}.")
    if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = "non-negative" if allow_zero else "positive"
        raise ValueError(f"'{name}' must be a finite {bound} number, got {value!r}.")
    return float(value)


def check_device_name(name, device):
    """Raise unless ``device`` names a kind of device torch knows; return it as a string.

    Only the spelling is checked: whether the device exists is checked by
    :func:`check_device` when a fit starts, on the machine that runs it.
    """
    import torch  # here, not at import: the command line starts without it

    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(
            f"Invalid value for the '{name}' parameter: expected 'cpu', 'cuda', 'cuda:N' or "
            f"'mps', got {device!r}."
        ) from error
    if resolved.type not in ("cpu", "cuda", "mps"):
        raise ValueError(
            f"Invalid value for the '{name}' parameter: expected 'cpu', 'cuda', 'cuda:N' or "
            f"'mps', got {device!r}."
        )
    return str(device)


def check_device(device):
    """Turn ``device`` into a :class:`torch.device` that exists on this machine.

    Parameters
    ----------
    device : str or torch.device
        "cpu", "cuda", "cuda:N" or "mps".

    Returns
    -------
    torch.device
    """
    import torch

    resolved = torch.device(check_device_name("device", device))
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError(
                f"device={device!r} was requested but CUDA is not available on this machine "
                f"(torch {torch.__version__}, built {'with' if torch.version.cuda else 'without'} "
                "CUDA). Use device='cpu', or install a CUDA build of torch."
            )
        index = resolved.index or 0
        if index >= torch.cuda.device_count():
            raise RuntimeError(
                f"device={device!r} was requested but only {torch.cuda.device_count()} CUDA "
                "device(s) are visible."
            )
    elif resolved.type == "mps" and not torch.backends.mps.is_available():
        raise RuntimeError(f"device={device!r} was requested but MPS is not available.")
    return resolved
