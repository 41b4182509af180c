"""Copies the top-level data folders (protocols/, devices/) into the wheel as package data.

They stay where the charter puts them (the repository's top level, which physios copy and
edit); setuptools' package-data can only ship files inside a package folder, so the build
step copies them to `loadmon/data/<kind>/` in the build tree. Nothing is written to the
source tree, and an editable install reads the top-level folders directly
(`loadmon.data.shipped_dir`).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
DATA_KINDS = ("protocols", "devices")


class BuildPyWithData(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for kind in DATA_KINDS:
            src = HERE / kind
            files = sorted(src.glob("*.toml"))
            if not files:
                raise SystemExit(f"setup.py: no {kind}/*.toml to ship (looked in {src})")
            dest = Path(self.build_lib) / "loadmon" / "data" / kind
            dest.mkdir(parents=True, exist_ok=True)
            for f in files:
                shutil.copy2(f, dest / f.name)


setup(cmdclass={"build_py": BuildPyWithData})
