"""`hushmic doctor` through the `board` fixture: no check FAILs, and the link, mute and LED results are the ones a
good board gives.

Simulated board (default): the simulator flips its own switch and its LED is read from the fake neopixel's log.
Real board (`--port`): you are asked to play the known recording, to flip the switch on and off, and whether the
LED shows the colour it should (y/n), on the terminal, as the other HIL tests ask."""
import pytest

from hushmic import doctor


class FixtureBench(doctor.Bench):
    """Doctor's physical side through the HIL fixture: the simulator does it itself, a person is asked."""

    can_act = True

    def __init__(self, board):
        self.board = board
        self.simulated = board.is_sim
        self._sim = doctor.SimBench(board.sim) if board.is_sim else None

    def say(self, msg):
        if not self.simulated:
            try:
                with open("/dev/tty", "w") as tty:
                    tty.write(msg + "\n")
            except OSError:
                pass

    def prompt_speech(self, seconds):
        self.board.play_known_audio()  # sim: the board already hears it; hardware: you play it

    def set_switch(self, muted):
        self.board.set_switch(muted)

    def led_is(self, rgbs):
        if self._sim is not None:
            return self._sim.led_is(rgbs)
        names = " or ".join(doctor.colour_name(c) for c in rgbs)
        yes = self.board.ask_yes_no(f"is the board's LED {names} now?")
        return yes, names if yes else f"not {names}"


def test_doctor_finds_nothing_to_fix(board):
    lines = []
    rep = doctor.run_doctor(board.port, FixtureBench(board), seconds=5 if board.is_sim else 8,
                            on_result=lambda r: lines.append(doctor.format_result(r)),
                            person_timeout=board.timeout)
    text = "\n".join(lines)
    by = {r.name: r for r in rep.results}
    hello = by["hello"].value
    if board.is_sim and hello and hello.get("viper") is False:
        pytest.skip("this machine's MicroPython VM has no viper emitter: the simulated board runs the plain kernel")
    assert not rep.failed, text
    assert [r.name for r in rep.results] == ["port", "hello", "vad_kernel", "fault", "ping", "stream", "mic", "mute",
                                              "heap", "led"], text
    s = by["stream"].value
    assert s["audio_frames"] > 0 and s["seq_gaps"] == 0 and s["crc_errors"] == 0 and s["decode_errors"] == 0, text
    assert s["drops"] == 0 and s["tx_dropped"] == 0, text
    m = by["mute"].value
    assert m["audio_frames_after_mute"] == 0 and m["unmuted"] and m["status_muted"], text
    if m["mic_silent"] is not None:  # the probe agrees with the wiring the profile describes
        assert m["mic_silent"] == bool(hello["mic_power_cut"]), text
    assert by["led"].status == doctor.OK, text
    assert by["ping"].value["median_ms"] < doctor.PING_WARN_MS, text
