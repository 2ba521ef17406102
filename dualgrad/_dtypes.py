"""dualgrad's dtypes: names shared by every backend, and Array API type promotion."""

from __future__ import annotations

__all__ = [
    "DType",
    "bool",
    "complex64",
    "complex128",
    "float16",
    "float32",
    "float64",
    "int8",
    "int16",
    "int32",
    "int64",
    "promote_types",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
]

import builtins


class DType:
    """A dtype by name; each backend maps it to its own array dtype."""

    __slots__ = ("is_complex", "is_floating_point", "is_inexact", "itemsize", "kind", "name")

    def __init__(self, name: str, kind: str, itemsize: int) -> None:
        self.name = name
        self.kind = kind  # "b" bool, "i" signed, "u" unsigned, "f" real float, "c" complex
        self.itemsize = itemsize
        # Plain attributes, not properties: the dispatcher reads them on every operation.
        self.is_floating_point: builtins.bool = kind == "f"
        self.is_complex: builtins.bool = kind == "c"
        # Real floating or complex: the dtypes that can require grad and carry tangents.
        self.is_inexact: builtins.bool = kind in "fc"

    def __repr__(self) -> str:
        return f"dualgrad.{self.name}"

    def __reduce__(self) -> str:
        return self.name


bool = DType("bool", "b", 1)
int8 = DType("int8", "i", 1)
int16 = DType("int16", "i", 2)
int32 = DType("int32", "i", 4)
int64 = DType("int64", "i", 8)
uint8 = DType("uint8", "u", 1)
uint16 = DType("uint16", "u", 2)
uint32 = DType("uint32", "u", 4)
uint64 = DType("uint64", "u", 8)
float16 = DType("float16", "f", 2)
float32 = DType("float32", "f", 4)
float64 = DType("float64", "f", 8)
complex64 = DType("complex64", "c", 8)
complex128 = DType("complex128", "c", 16)

ALL_DTYPES: tuple[DType, ...] = (
    bool,
    int8,
    int16,
    int32,
    int64,
    uint8,
    uint16,
    uint32,
    uint64,
    float16,
    float32,
    float64,
    complex64,
    complex128,
)
BY_NAME: dict[str, DType] = {dtype.name: dtype for dtype in ALL_DTYPES}

# Promotion across kinds: bool < integer < float < complex. Python scalars are weakly typed,
# by their kind only (a Python int is "i", whatever its value).
KIND_RANK = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}
SCALAR_KIND = {builtins.bool: "b", int: "i", float: "f", complex: "c"}
_BY_KIND_AND_SIZE = {(dtype.kind, dtype.itemsize): dtype for dtype in ALL_DTYPES}


def promote_types(a: DType, b: DType) -> DType:
    """The dtype two operands are computed in.

    Within a kind this is the Array API's promotion (the wider one wins). Across kinds it is
    PyTorch's: bool < integer < float < complex, and the higher kind keeps its own width, so
    ``int64 tensor * float32 tensor`` is float32 rather than NumPy's float64; only a complex
    dtype widens to keep a wider float's precision (float64 with complex64 is complex128).
    """
    if a is b:
        return a
    rank_a, rank_b = KIND_RANK[a.kind], KIND_RANK[b.kind]
    if rank_a != rank_b:
        high, low = (a, b) if rank_a > rank_b else (b, a)
        if high.kind == "c" and low.kind == "f" and 2 * low.itemsize > high.itemsize:
            return complex128  # float64 with complex64: the float's precision is kept
        return high
    if a.kind != b.kind:  # signed with unsigned: the smallest signed type holding both
        size = max(a.itemsize * (1 + (a.kind == "u")), b.itemsize * (1 + (b.kind == "u")))
        if size > 8:
            # uint64 with a signed integer: no integer dtype holds both (the standard leaves it
            # out; PyTorch refuses, NumPy would go to float64)
            msg = (
                f"no integer dtype holds both {a} and {b}; convert one operand first, "
                "e.g. x.astype(dualgrad.int64)"
            )
            raise TypeError(msg)
        return _BY_KIND_AND_SIZE[("i", size)]
    return a if a.itemsize >= b.itemsize else b
