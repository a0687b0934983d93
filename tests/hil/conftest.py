"""Hardware-in-the-loop suite: the same tests against a real board (`--port`) or, by default, the simulated board.

    pytest tests/hil                              simulated board (what CI runs)
    pytest tests/hil --port /dev/ttyACM0          a real board on its native USB port; some tests ask you (on the
                                                  terminal) to flip the mute switch, press RESET, play the recording

The `board` fixture hides the difference: tests talk to `board.port` over the hushmic protocol exactly as the host
tools do, and ask `board` for the physical actions (switch, reset, sound) that a simulated board does by itself and
a person does on hardware. tests/hil/README.md describes the hardware set-up.

Options registered here: `--port` (also read by tests/hil/test_flash.py through `request.config.getoption("--port")`),
`--deploy-port` (test_flash.py: the native USB port when flashing through the UART bridge), `--hil-timeout`
(seconds to wait for a person, default 60).
"""
import os
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
KNOWN_WAV = REPO / "host_tools" / "data" / "demo.wav"  # speech with pauses; demo.json holds its sentences


def pytest_addoption(parser):
    g = parser.getgroup("hushmic-hil", "hushmic hardware-in-the-loop")
    g.addoption("--port", action="store", default=None, metavar="PORT",
                help="serial port of a real hushmic board (native USB, e.g. /dev/ttyACM0); default: the simulated board")
    g.addoption("--deploy-port", action="store", default=None, metavar="PORT",
                help="port to deploy through after flashing (tests/hil/test_flash.py); default: --port")
    g.addoption("--hil-timeout", action="store", type=float, default=60.0, metavar="S",
                help="seconds to wait for a person to act on a real board (default 60)")


def pytest_collection_modifyitems(config, items):
    for it in items:
        if "/hil/" in str(it.fspath).replace(os.sep, "/"):
            it.add_marker(pytest.mark.hil)


class Board:
    """What a HIL test needs from a board, real or simulated."""

    def __init__(self, request, port=None, sim=None):
        self.request = request
        self.sim = sim
        self.port = port or sim.port
        self.is_sim = sim is not None
        self.timeout = request.config.getoption("--hil-timeout")

    # ---- talking to it ----------------------------------------------------------------------------------------
    def connect(self, handshake=True):
        from hushmic.link import BoardConnection

        conn = BoardConnection(self.port, "hil")
        conn.open()
        self.request.addfinalizer(conn.close)
        if handshake:
            conn.handshake(timeout=8.0)
        return conn

    # ---- physical actions -----------------------------------------------------------------------------------
    def ask_person(self, msg):
        """Print an instruction and wait for Enter (hardware only), on the controlling terminal, so it works under
        pytest's output capture too. Skips if there is no terminal (CI, a pipe)."""
        self._ask(f"\n>>> {msg} -- then press Enter ", msg)

    def ask_yes_no(self, question):
        """Ask the person a yes/no question (hardware only), the same way as ask_person. Returns True or False."""
        while True:
            a = self._ask(f"\n>>> {question} [y/n] ", question).strip().lower()
            if a in ("y", "yes", "n", "no"):
                return a.startswith("y")

    def _ask(self, text, what):
        try:
            with open("/dev/tty", "r+") as tty:
                tty.write(text)
                tty.flush()
                return tty.readline()
        except OSError:
            pass
        stdin = sys.__stdin__
        if stdin is None or not stdin.isatty():
            pytest.skip(f"needs a person at the board (run pytest in a terminal): {what}")
        capman = self.request.config.pluginmanager.getplugin("capturemanager")
        with capman.global_and_fixture_disabled():
            print(text, end="", flush=True, file=sys.__stdout__)
            return stdin.readline()

    def set_switch(self, muted):
        if self.is_sim:
            self.sim.set_switch(muted)
        else:
            self.ask_person(f"flip the mute switch {'ON (muted)' if muted else 'OFF (listening)'}")

    def reset(self):
        """Reset the board the way a person does (cable or RESET button); returns when the action is done."""
        if self.is_sim:
            self.sim.unplug()
            time.sleep(0.5)
            self.sim.replug()
        else:
            self.ask_person("press the board's RESET (EN) button, or unplug and replug its USB cable")

    def play_known_audio(self):
        """Sim: the board already hears KNOWN_WAV. Hardware: a person plays it near the mic."""
        if not self.is_sim:
            self.ask_person(f"play {KNOWN_WAV} from a speaker 20-50 cm from the mic at conversation level "
                            f"(e.g. `aplay {KNOWN_WAV}` or `afplay {KNOWN_WAV}`) right after pressing Enter")


@pytest.fixture
def board(request, tmp_path):
    port = request.config.getoption("--port")
    if port:
        yield Board(request, port=port)
        return
    from hushmic.sim.launcher import SimBoard, vm_path

    try:
        vm_path()
    except Exception as e:
        pytest.skip(f"no --port and no simulated board here: {e}")
    fast = request.node.get_closest_marker("realtime") is None
    sb = SimBoard(KNOWN_WAV, fast=fast, pace=10, control=True, workdir=tmp_path / "sim", name="hil")
    sb.start()
    try:
        yield Board(request, sim=sb)
    finally:
        sb.stop()


def pytest_configure(config):
    config.addinivalue_line("markers", "realtime: the simulated board plays at real-time pace for this test")
