#!/usr/bin/python3
"""NumPy-written .npy files for the engine's reader/writer tests (numpy is the independent reference).

    /usr/bin/python3 tools/reference/npy_fixtures.py tests/fixtures/io
"""
import os
import sys

import numpy as np
from numpy.lib import format as npf


def main(out):
    os.makedirs(out, exist_ok=True)
    a = (np.arange(24, dtype=np.float32).reshape(2, 3, 4) - 5.5) / 3
    for version in ((1, 0), (2, 0), (3, 0)):
        with open(os.path.join(out, f"f4_v{version[0]}.npy"), "wb") as f:
            npf.write_array(f, a, version=version)
    np.save(os.path.join(out, "f8.npy"), a.astype(np.float64) / 7)
    np.save(os.path.join(out, "i4.npy"), np.array([[1, -2, 3], [4, 5, -6]], dtype=np.int32))
    np.save(os.path.join(out, "i8.npy"), np.array([7, -8, 2**40], dtype=np.int64))
    np.save(os.path.join(out, "scalar.npy"), np.float32(2.5))
    np.save(os.path.join(out, "vector.npy"), np.array([1, 2, 3], dtype=np.float32))
    np.save(os.path.join(out, "empty.npy"), np.zeros((0, 5), dtype=np.float32))
    np.save(os.path.join(out, "fortran.npy"), np.asfortranarray(a[0]))
    np.save(os.path.join(out, "bigendian.npy"), a.astype(">f4"))
    np.save(os.path.join(out, "complex.npy"), np.array([1 + 2j], dtype=np.complex64))
    print("wrote", out)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/io")
