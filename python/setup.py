"""Builds `compe._compe` with the project's CMake (the C++ core lives one folder up)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent.parent


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        # COMPE_BUILD_DIR: an already configured build folder (e.g. the project's build/) is used
        # as it is; otherwise a fresh one is configured under build_temp.
        given = os.environ.get("COMPE_BUILD_DIR")
        if given and (Path(given) / "CMakeCache.txt").exists():
            build = Path(given).resolve()
        else:
            build = Path(self.build_temp).resolve() / "cmake"
            subprocess.check_call(["cmake", "-S", str(ROOT), "-B", str(build), "-DCMAKE_BUILD_TYPE=Release",
                                   "-DCOMPE_BUILD_TESTS=OFF", "-DCOMPE_BUILD_BENCH=OFF",
                                   "-DCOMPE_BUILD_PYTHON=ON", f"-DPython3_EXECUTABLE={sys.executable}"])
        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL", str(os.cpu_count() or 2))
        subprocess.check_call(["cmake", "--build", str(build), "--target", "_compe", "-j", jobs])
        built = next((build / "python" / "compe").glob("_compe*.so"))
        target = Path(self.get_ext_fullpath(ext.name))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built, target)


setup(ext_modules=[Extension("compe._compe", sources=[])], cmdclass={"build_ext": CMakeBuild})
