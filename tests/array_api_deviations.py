"""Where dualgrad departs from the Array API standard (2024.12), each with its reason.

The one table of known deviations. ``tests/test_array_api_conformance.py`` reads it: a function
listed without dtypes is not run there; one listed with dtypes is run on every other dtype. The
test also checks that every function of the standard is either run or listed here, and that
``docs/array-api.md`` shows this table as it is, followed by the official conformance suite's
expected failures (``array_api_suite``).
"""

from __future__ import annotations

from dataclasses import dataclass

import array_api_suite


@dataclass(frozen=True)
class Deviation:
    """What differs, and why; ``dtypes``: only these input dtypes deviate."""

    reason: str
    dtypes: tuple[str, ...] = ()


DEVIATIONS: dict[str, Deviation] = {
    "Tensor.size": Deviation(
        "a method, as PyTorch's size(); the standard's attribute is math.prod(x.shape) "
        "(array_api_compat.size(x) gives it)"
    ),
    "imag": Deviation(
        "not drawn here: on jax and array_api_strict Hypothesis probes complex dtypes with "
        "float() of a complex 0-d Tensor, which raises TypeError as float() of a Python complex "
        "does; the op table checks imag's forward on complex inputs instead"
    ),
}
_NO_COMPLEX_GRADIENTS = (
    "not provided: transforms are complex-valued, and dualgrad differentiates real tensors "
    "only, so they could not carry gradients"
)
DEVIATIONS.update(
    {
        f"fft.{name}": Deviation(_NO_COMPLEX_GRADIENTS)
        for name in (
            "fft",
            "ifft",
            "fftn",
            "ifftn",
            "rfft",
            "irfft",
            "rfftn",
            "irfftn",
            "hfft",
            "ihfft",
            "fftfreq",
            "rfftfreq",
            "fftshift",
            "ifftshift",
        )
    }
)


def render_table() -> str:
    """The table as docs/array-api.md shows it (the fft functions on one row), with the
    official conformance suite's expected failures last (``array_api_suite.rows``)."""
    rows = ["| what | dtypes | why |", "| --- | --- | --- |"]
    fft_done = False
    for name, deviation in DEVIATIONS.items():
        if name.startswith("fft."):
            if fft_done:
                continue
            fft_done, name = True, "the `fft` extension"
        else:
            name = f"`{name}`"
        dtypes = ", ".join(deviation.dtypes) or "all"
        rows.append(f"| {name} | {dtypes} | {deviation.reason} |")
    rows.extend(array_api_suite.rows())
    return "\n".join(rows) + "\n"
