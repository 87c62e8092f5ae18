"""Which BLAS PyTorch multiplies with, for the reference columns of the benchmarks
(bench/torch_reference.py, bench/torch_sac_reference.py). Call after torch has run a product:
the library is mapped into the process on first use."""

import torch


def blas():
    """The BLAS torch multiplies with: its own build's (pip: mkl) or, for Debian's generic build, the libblas.so.3 selected."""
    info = next((part.split("=")[1] for part in torch.__config__.show().replace(",", " ").split() if part.startswith("BLAS_INFO=")), "unknown")
    if info != "generic":
        return info
    try:
        with open("/proc/self/maps") as f:
            maps = f.read()
    except OSError:
        return "generic"
    for name in ("openblas", "mkl", "blis", "atlas"):
        if name in maps:
            return name
    # Netlib's reference BLAS (Debian's default alternative): ~10x slower products.
    return "reference" if "/blas/libblas.so" in maps else "generic"
