# Loads the simulated board's configuration (JSON file named by $HUSHMIC_SIM). Shared by the fakes.
import json
import os

_path = os.getenv("HUSHMIC_SIM")
_cfg = {}
if _path:
    with open(_path) as _f:
        _cfg = json.load(_f)


def get(key, default=None):
    return _cfg.get(key, default)
