"""The gallery's command line: every example runs as CI runs it, with
``--small``, writing its PNG outside the source tree (sphinx-gallery keeps the
figures it captures itself). Named in conf.py by its import path, so that the
configuration stays picklable."""

from __future__ import annotations

import tempfile
from typing import Any

_OUT = tempfile.mkdtemp(prefix="fastloss-gallery-")


def reset_argv(gallery_conf: dict[str, Any], script_vars: dict[str, Any]) -> list[str]:
    return ["--small", "--out", _OUT]
