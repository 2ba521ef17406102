# Vendored with only the 2024.12 stubs (see third_party/array-api-tests/VENDORED.md); upstream
# imports every revision here: from . import _2021_12, _2022_12, _2023_12, _2024_12, _draft
from . import _2024_12
