"""Packaging settings that pyproject.toml cannot state: the bundles ship inside the package.

The wheel carries each bundle of the top-level ``bundles/`` folder, unpacked, as the data of the package
``monai_mammo.bundles_data`` (the files themselves are listed in pyproject.toml's package data; outputs such
as ``eval/`` and ``runs/`` are not). ``bundles/`` stays where it is: ``package_dir`` maps the package onto
it at build time, and an editable install maps it onto the checkout's folder. pyproject.toml's automatic
package discovery cannot add a package that lives elsewhere, so the package list is built here:
``monai_mammo`` and its sub-packages as found, plus that one.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["monai_mammo", "monai_mammo.*"]), "monai_mammo.bundles_data"],
    package_dir={"monai_mammo.bundles_data": "bundles"},
)
