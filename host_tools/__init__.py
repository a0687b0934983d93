"""hushmic host tools: read frames from the board, transcribe offline, redact, store, export."""
__version__ = "0.1.0"
