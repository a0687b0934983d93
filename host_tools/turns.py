"""Turns: a board's segments a short pause apart, transcribed and redacted as one.

The board ends a segment at any pause longer than its hangover, which can fall inside one sentence ("my account
<pause> is four one one ..."). Transcribed alone, the second half has no cue and its digits stay readable, and Whisper
loses the context it needs to hear a name. So the host groups a board's consecutive segments into a *turn*: a segment
that starts less than `gap_s` after the previous one ended joins its turn. ASR and redaction run once over the whole
turn (segments joined with a short silence, `pipeline.Pipeline.process_turn`) and each segment's text and audio are
cut back out of that result. Nothing of a turn is emitted or stored until it closes.

A turn closes when
- `gap_s` passes after its last segment with no new one, on the board's timeline (frames, heartbeats) or on the
  host's clock, whichever comes first (a simulated board in --fast mode runs ahead of the wall clock; a quiet real
  board still sends a heartbeat only once a second);
- a segment was cut short (mute, disconnect, board reset, end of the recording): speech after a mute never joins
  speech from before it;
- it holds `max_s` seconds of audio (memory and latency stay bounded);
- the listener shuts down.

`TurnAssembler` only groups; what happens to a closed turn is the `on_close` callback's business.
"""
import time
from dataclasses import dataclass, field

DEFAULT_GAP_S = 1.0   # segment gap that still continues a turn (docs/cli.md, `listen --turn-gap`)
MAX_TURN_S = 45.0     # audio seconds after which a turn closes even without a pause


@dataclass
class Turn:
    board: str
    segments: list = field(default_factory=list)  # closed listen.Utterance objects, in order
    last_end_t: float = None                      # timeline seconds of the last segment's end
    last_end_wall: float = None                   # host monotonic time the last segment closed
    t_closed: float = None                        # host monotonic time the turn closed

    @property
    def start(self):
        return self.segments[0].start

    @property
    def end(self):
        return self.segments[-1].end

    def audio_s(self):
        return sum(max(0.0, u.end - u.start) for u in self.segments)


class TurnAssembler:
    def __init__(self, on_close, gap_s=DEFAULT_GAP_S, max_s=MAX_TURN_S, clock=time.monotonic):
        if gap_s < 0:
            raise ValueError("gap_s must be >= 0")
        self.on_close = on_close
        self.gap_s = float(gap_s)
        self.max_s = float(max_s)
        self.clock = clock
        self.open = {}  # board -> Turn

    def pending(self, board):
        """The board's open turn (segments waiting for the pause that ends it), or None."""
        return self.open.get(board)

    def segment_starting(self, board, t):
        """A new segment starts at timeline second t: a turn it cannot join is closed first."""
        turn = self.open.get(board)
        if turn is not None and (t - turn.last_end_t > self.gap_s or turn.audio_s() >= self.max_s):
            self.close(board)

    def add(self, utt):
        """A segment closed: it joins its board's open turn, or starts one. A truncated segment closes its turn."""
        turn = self.open.get(utt.board)
        if turn is not None and (utt.start - turn.last_end_t > self.gap_s
                                 or turn.audio_s() + (utt.end - utt.start) > self.max_s):
            self.close(utt.board)
            turn = None
        if turn is None:
            turn = self.open[utt.board] = Turn(utt.board)
        turn.segments.append(utt)
        turn.last_end_t = utt.end
        turn.last_end_wall = self.clock()
        if utt.truncated or turn.audio_s() >= self.max_s:
            self.close(utt.board)

    def tick(self, board, now_t):
        """The board's timeline reached now_t (a frame, a heartbeat): close its turn if the pause is long enough."""
        turn = self.open.get(board)
        if turn is not None and now_t - turn.last_end_t >= self.gap_s:
            self.close(board)

    def tick_wall(self):
        """The host's clock: close every turn whose last segment closed gap_s ago or more."""
        now = self.clock()
        for board in [b for b, t in self.open.items() if now - t.last_end_wall >= self.gap_s]:
            self.close(board)

    def close(self, board):
        turn = self.open.pop(board, None)
        if turn is not None and turn.segments:
            self.on_close(turn)

    def close_all(self):
        for board in list(self.open):
            self.close(board)
