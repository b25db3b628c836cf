"""Marks the wheel as platform-specific when it carries the native library (src/aichat/_lib,
filled by `make dist`): the tag is py3-none-<platform>, since ctypes needs no Python ABI. The
platform comes from AICHAT_WHEEL_PLATFORM (scripts/dist.sh computes the manylinux tag from the
library's glibc symbol versions), else setuptools' own."""

import os
from pathlib import Path

from setuptools import setup
from setuptools.dist import Distribution

try:
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # setuptools < 70.1
    from wheel.bdist_wheel import bdist_wheel  # type: ignore[no-redef]

CARRIES_LIBRARY = any((Path(__file__).parent / "src" / "aichat" / "_lib").glob("libaichat.*"))


class NativeDistribution(Distribution):
    def has_ext_modules(self) -> bool:
        return CARRIES_LIBRARY


class PlatformWheel(bdist_wheel):
    def finalize_options(self) -> None:
        super().finalize_options()
        self.root_is_pure = not CARRIES_LIBRARY

    def get_tag(self) -> tuple:
        python, abi, platform = super().get_tag()
        if not CARRIES_LIBRARY:
            return python, abi, platform
        return "py3", "none", os.environ.get("AICHAT_WHEEL_PLATFORM", platform)


setup(distclass=NativeDistribution, cmdclass={"bdist_wheel": PlatformWheel})
