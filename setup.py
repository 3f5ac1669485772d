from pathlib import Path

from setuptools import find_packages, setup

setup(
    name="proxlab",
    version="0.1.0",
    description="Regularized adaptive optimizers, their exact proximal subproblems, and checks of the theory behind them",
    long_description=Path(__file__).with_name("README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["proxlab", "proxlab.*"]),
    install_requires=[
        "numpy>=1.24",
        "scipy>=1.10",
        "numba>=0.59",
        "cvxpy>=1.4",
        "clarabel>=0.7",
        "matplotlib>=3.7",
        "pandas>=2.0",
        "pyarrow>=14",
        "tqdm>=4.60",
        "dask[distributed]>=2023.1",
        "threadpoolctl>=3.1",
        "scikit-learn>=1.3",
        "mnist1d>=0.0.2",
    ],
    extras_require={
        "torch": ["torch>=2.1"],
        "test": ["pytest>=7", "hypothesis>=6.80", "torch>=2.1", "madgrad>=1.1"],
    },
    entry_points={"console_scripts": ["proxlab=proxlab.cli:main"]},
    license="BSD-3-Clause",
    classifiers=["Programming Language :: Python :: 3", "Topic :: Scientific/Engineering :: Mathematics"],
)
