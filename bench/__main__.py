"""Run every benchmark: python -m bench [--quick]. Each prints its table (stderr) and its JSON (stdout)."""
import importlib
import sys

BENCHES = ["codec_bench", "board_output_bench", "vad_bench", "asr_bench", "pii_bench", "e2e_bench", "long_bench", "wyoming_bench", "stream_bench"]


def main():
    failed = []
    for name in BENCHES:
        try:
            mod = importlib.import_module(f"bench.{name}")
        except ImportError as e:
            print(f"== {name}: not available ({e})", file=sys.stderr)
            continue
        print(f"== {name}", file=sys.stderr, flush=True)
        try:
            mod.main([]) if mod.main.__code__.co_argcount else mod.main()
        except SystemExit as e:
            if e.code not in (0, None):
                failed.append(name)
        except Exception as e:  # keep going: one broken benchmark should not hide the others
            print(f"== {name} failed: {e!r}", file=sys.stderr)
            failed.append(name)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
