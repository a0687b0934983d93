"""Where things live: the repository's firmware and board profiles, bundled data, the per-user data directory."""
import os
import sys
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent
FIRMWARE_DIR = REPO_DIR / "firmware"
BOARDS_DIR = REPO_DIR / "boards" / "esp32_s3"
SIM_DIR = PACKAGE_DIR / "sim"
DATA_DIR = PACKAGE_DIR / "data"


def load_firmware_module(name):
    """Import firmware/NAME.py in CPython (the one wire format, the profile schema, the endpointer...), as its own
    module object, so the host uses the board's code rather than a copy of it."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"hushmic._fw_{name}", FIRMWARE_DIR / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def user_data_dir() -> Path:
    """Per-user data directory: $HUSHMIC_HOME, else the platform's convention (XDG on Linux)."""
    env = os.environ.get("HUSHMIC_HOME")
    if env:
        return Path(env).expanduser()
    return platform_data_dir()


def platform_data_dir() -> Path:
    """The platform's per-user data directory for hushmic, whatever $HUSHMIC_HOME says (models live here too)."""
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "hushmic"
    if sys.platform.startswith("win"):
        return Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local")) / "hushmic"
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "hushmic"


def system_data_dirs() -> list:
    """System-wide data directories for hushmic (read-only model installs by an administrator): each of
    $XDG_DATA_DIRS (default /usr/local/share:/usr/share) + /hushmic on Unix; none on Windows."""
    if sys.platform.startswith("win"):
        return []
    dirs = os.environ.get("XDG_DATA_DIRS") or "/usr/local/share:/usr/share"
    return [Path(d) / "hushmic" for d in dirs.split(os.pathsep) if d and os.path.isabs(d)]
