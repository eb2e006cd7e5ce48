"""Make ``speech-sample.mp4``: the reference text in ``speech-sample.txt`` spoken by espeak-ng
over a plain animated picture, encoded small with the ffmpeg that imageio-ffmpeg ships.

    apt-get install espeak-ng      # only to regenerate; the committed files are enough to test
    python data/samples/make_sample_video.py
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

import imageio_ffmpeg

HERE = Path(__file__).resolve().parent
TEXT = HERE / "speech-sample.txt"
VIDEO = HERE / "speech-sample.mp4"
VOICE = "en-us"
WORDS_PER_MINUTE = 150
#: A short pause between words (in 10 ms units) helps a small recognizer keep them apart.
WORD_GAP_10MS = 1


def speak(text_path: Path, wav_path: Path) -> None:
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        sys.exit("espeak-ng is not installed (apt-get install espeak-ng)")
    subprocess.run(
        [
            espeak,
            "-v",
            VOICE,
            "-s",
            str(WORDS_PER_MINUTE),
            "-g",
            str(WORD_GAP_10MS),
            "-f",
            str(text_path),
            "-w",
            str(wav_path),
        ],
        check=True,
    )


def encode(wav_path: Path, out_path: Path) -> None:
    """A 320x180 test picture at 10 fps with 48 kb/s mono AAC: small, but a real video."""
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    subprocess.run(
        [
            ffmpeg,
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x180:rate=10",
            "-i",
            str(wav_path),
            "-t",
            f"{_seconds(wav_path):.2f}",
            "-c:v",
            "libx264",
            "-preset",
            "veryslow",
            "-crf",
            "38",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-b:a",
            "48k",
            "-ac",
            "1",
            "-ar",
            "22050",
            "-movflags",
            "+faststart",
            str(out_path),
        ],
        check=True,
    )


def _seconds(wav_path: Path) -> float:
    with wave.open(str(wav_path)) as wav:
        return wav.getnframes() / wav.getframerate()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "speech.wav"
        speak(TEXT, wav)
        encode(wav, VIDEO)
    print(f"wrote {VIDEO.name}: {VIDEO.stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
