"""Media files: probing, the upload checks, one audio extraction reused, exact chunking."""

from __future__ import annotations

import wave

import pytest

from pipeline import media
from pipeline.errors import InvalidInput
from tests.support.media_server import SAMPLE_VIDEO


def test_probe_reads_duration_and_streams():
    info = media.probe(SAMPLE_VIDEO)
    assert 20 <= info.duration_s <= 60
    assert info.audio_codec == "aac"
    assert info.video_codec == "h264"


def test_a_text_file_is_not_media(tmp_path):
    fake = tmp_path / "notes.mp4"
    fake.write_text("this is not a video")
    with pytest.raises(InvalidInput, match="not a media file"):
        media.check_upload(fake, max_mb=500)


def test_uploads_are_checked_for_type_and_size(tmp_path):
    with pytest.raises(InvalidInput, match=r"\.exe files are not supported"):
        (tmp_path / "setup.exe").write_bytes(b"MZ")
        media.check_upload(tmp_path / "setup.exe", max_mb=500)
    (tmp_path / "talk.srt").write_text("1\n00:00:01,000 --> 00:00:02,000\nHello\n")
    with pytest.raises(InvalidInput, match="talk.srt is a transcript, not a video or audio file.*--transcript FILE"):
        media.check_upload(tmp_path / "talk.srt", max_mb=500)
    big = tmp_path / "big.wav"
    big.write_bytes(b"\0" * 1_500_000)
    with pytest.raises(InvalidInput, match="limited to 1 MB"):
        media.check_upload(big, max_mb=1)
    with pytest.raises(InvalidInput, match="not found"):
        media.check_upload(tmp_path / "missing.mp4", max_mb=500)


def test_a_video_without_sound_is_refused(tmp_path):
    silent = tmp_path / "silent.mp4"
    import subprocess

    subprocess.run(
        [
            media.ffmpeg_exe(),
            "-hide_banner",
            "-loglevel",
            "error",
            "-i",
            str(SAMPLE_VIDEO),
            "-an",
            "-t",
            "2",
            "-c:v",
            "copy",
            str(silent),
        ],
        check=True,
    )
    with pytest.raises(InvalidInput, match="no sound track"):
        media.check_upload(silent, max_mb=500)


def test_audio_is_extracted_once_as_16k_mono(tmp_path):
    fractions = []
    audio = media.extract_audio(SAMPLE_VIDEO, tmp_path, fractions.append, media.probe(SAMPLE_VIDEO).duration_s)
    with wave.open(str(audio)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (16_000, 1, 2)
    assert media.wav_duration(audio) == pytest.approx(media.probe(SAMPLE_VIDEO).duration_s, abs=0.2)
    assert fractions and fractions[-1] <= 1.0
    made = audio.stat().st_mtime_ns
    assert media.extract_audio(SAMPLE_VIDEO, tmp_path) == audio
    assert audio.stat().st_mtime_ns == made  # reused, not made again


def test_chunks_cover_the_audio_exactly(tmp_path):
    audio = media.extract_audio(SAMPLE_VIDEO, tmp_path)
    chunks = media.split_audio(audio, 10, tmp_path / "chunks")
    total = media.wav_duration(audio)
    assert len(chunks) == int(total // 10) + 1
    assert [c.offset_s for c in chunks] == [10.0 * i for i in range(len(chunks))]
    assert sum(c.duration_s for c in chunks) == pytest.approx(total, abs=1e-6)
    assert all(media.wav_duration(c.path) == pytest.approx(c.duration_s) for c in chunks)
