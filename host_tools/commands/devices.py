"""`hushmic devices`: boards by USB id (native USB vs USB-UART bridge), plus running simulated boards."""
from ..cli import emit_json, say, table_hint

NAME = "devices"
ORDER = 5
HELP = "list connected ESP32-S3 boards (by USB id) and running simulated boards"
DESCRIPTION = """List serial ports that look like ESP32-S3 boards, and running simulated boards.

  hushmic devices              ports with Espressif's USB id (303a:*, the S3's native USB) or a common USB-UART
                               bridge (CP210x 10c4:ea60, CH340 1a86:7523, CH9102 1a86:55d4, FTDI 0403:*)
  hushmic devices --probe      also ask each free port for the board's hello (firmware, profile, codec, muted);
                               ports another program has open are shown as busy and left alone
  hushmic devices --all        every serial port
  hushmic devices --json       a JSON list on stdout

Use the port marked "native USB" with hushmic (see docs/ports.md): on the DevKitC-1 that is the connector labelled
USB, /dev/ttyACM* on Linux, /dev/cu.usbmodem* on macOS. The UART connector's bridge port resets the board when its
DTR/RTS lines toggle; hushmic holds them off, but other serial tools may not."""


def add_arguments(p):
    p.add_argument("--probe", action="store_true",
                   help="open each free port (exclusively, DTR/RTS off) and ask for hello; busy ports are not touched")
    p.add_argument("--timeout", type=float, default=1.5, metavar="S", help="hello timeout per port with --probe")
    p.add_argument("--all", action="store_true", help="list every serial port, not only likely boards")
    p.add_argument("--json", action="store_true", help="JSON list on stdout")


_KIND = {"native-usb": "native USB", "usb-uart": "USB-UART", "simulated": "simulated", "other": "other"}


def run(args):
    from ..devices import find

    devs = find(all_ports=args.all, with_probe=args.probe, timeout=args.timeout)
    if args.json:
        emit_json(devs)
        return 0
    if not devs:
        say("no boards found. Plug the DevKitC-1 in by its USB (native) connector, or try `hushmic devices --all`;"
            " on Linux check permissions (docs/ports.md). No board at hand? `hushmic demo` runs a simulated one.")
        return 0
    for d in devs:
        ident = d.get("usb_id") or (f"pid {d['pid']}" if d.get("pid") else "")
        line = f"{d['port']:<28} {_KIND.get(d['kind'], d['kind']):<11} {ident:<11} {d['description']}"
        if d["kind"] == "simulated" and d.get("wav"):
            line += f" (playing {d['wav']})"
        if d.get("by_id"):
            line += f"\n{'':<28} stable name: {d['by_id']}"
        pr = d.get("probe")
        if pr:
            if pr["status"] == "ok":
                h = pr["hello"]
                line += (f"\n{'':<28} hushmic firmware {h.get('firmware')}, protocol {h.get('protocol')}, "
                         f"profile {h.get('profile')}, codec {h.get('codec')}"
                         f"{', MUTED' if h.get('muted') else ''}")
            else:
                line += f"\n{'':<28} {pr['status']}: {pr.get('message', '')}"
        say(line)
    table_hint()
    if not any(d["kind"] == "native-usb" for d in devs) and any(d["kind"] == "usb-uart" for d in devs):
        say("only USB-UART bridge ports found: hushmic talks to the board on its native USB port (the connector "
            "labelled USB on a DevKitC-1); see docs/ports.md")
    return 0
