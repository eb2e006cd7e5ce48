"""A local web server standing in for the sites creators link to.

It serves the sample video as a direct link (with byte ranges, as real servers do), an HTML
page that embeds it in ``<video>``, an HLS stream with a video variant and an audio-only one
(how large sites offer audio separately), a 404, redirects (to another path, or to any
address a test names — such as a private one), and a page whose video has a captions track.
It counts connections and requests per path, so a test can prove that a refused link never
reached it.
"""

from __future__ import annotations

import subprocess
import tempfile
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from pipeline.media import ffmpeg_exe

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
SAMPLE_VIDEO = SAMPLES / "speech-sample.mp4"
SAMPLE_TEXT = SAMPLES / "speech-sample.txt"

_TYPES = {
    ".mp4": "video/mp4",
    ".m4a": "audio/mp4",
    ".mp3": "audio/mpeg",
    ".wav": "audio/wav",
    ".webm": "video/webm",
    ".ts": "video/mp2t",
    ".m3u8": "application/vnd.apple.mpegurl",
    ".vtt": "text/vtt",
    ".html": "text/html; charset=utf-8",
}


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, handler, owner: MediaServer):
        self.owner = owner
        super().__init__(address, handler)

    def process_request(self, request, client_address):
        self.owner.connections += 1
        super().process_request(request, client_address)


class MediaServer:
    """``with MediaServer() as server: server.url("/sample.mp4")``."""

    def __init__(self, files: dict[str, Path] | None = None):
        self.files = {"/sample.mp4": SAMPLE_VIDEO, **(files or {})}
        self.redirects: dict[str, str] = {}
        #: path -> how many more requests for it are answered 503 (a site having a bad moment)
        self.unavailable: Counter[str] = Counter()
        self.requests: Counter[str] = Counter()
        self.bytes_sent: Counter[str] = Counter()
        self.connections = 0
        self._lock = threading.Lock()
        self._tmp: tempfile.TemporaryDirectory | None = None
        self.server = _Server(("127.0.0.1", 0), _handler(self), self)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    @property
    def hits(self) -> int:
        return sum(self.requests.values())

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def take_unavailable(self, path: str) -> bool:
        with self._lock:
            if self.unavailable[path] <= 0:
                return False
            self.unavailable[path] -= 1
            return True

    def redirect(self, path: str, target: str) -> str:
        """Answer ``path`` with a 302 to ``target``; returns the URL of ``path``."""
        self.redirects[path] = target
        return self.url(path)

    def add_hls(self) -> str:
        """An HLS stream of the sample: a video variant and an audio-only variant. Returns the
        master playlist URL."""
        self._tmp = self._tmp or tempfile.TemporaryDirectory(prefix="hls-")
        folder = Path(self._tmp.name)
        _make_hls(SAMPLE_VIDEO, folder)
        for path in folder.iterdir():
            self.files[f"/hls/{path.name}"] = path
        return self.url("/hls/master.m3u8")

    def page(self, captions: bool = False) -> str:
        """A page with the sample in ``<video>``; with ``captions``, a person's English captions too."""
        track = f'<track kind="captions" srclang="en" label="English" src="{self.url("/sample.en.vtt")}">'
        return (
            "<!doctype html><html><head><title>Repurposing one video</title></head><body>"
            f'<h1>Repurposing one video</h1><video controls><source src="{self.url("/sample.mp4")}" type="video/mp4">'
            f"{track if captions else ''}</video></body></html>"
        )

    def __enter__(self) -> MediaServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        if self._tmp is not None:
            self._tmp.cleanup()

    def count(self, path: str, sent: int) -> None:
        with self._lock:
            self.requests[path] += 1
            self.bytes_sent[path] += sent


def sample_captions(seconds: float = 38.0) -> str:
    """Captions a person wrote for the sample: its reference lines, timed by their word counts."""
    lines = [line.strip() for line in SAMPLE_TEXT.read_text().splitlines() if line.strip()]
    per_word = seconds / sum(len(line.split()) for line in lines)
    cues, clock = ["WEBVTT", ""], 0.0
    for line in lines:
        end = clock + len(line.split()) * per_word
        cues += [f"{_vtt_time(clock)} --> {_vtt_time(end)}", line, ""]
        clock = end
    return "\n".join(cues)


def _vtt_time(seconds: float) -> str:
    minutes, rest = divmod(seconds, 60)
    return f"00:{int(minutes):02d}:{rest:06.3f}"


def _make_hls(video: Path, folder: Path) -> None:
    """Two variants cut from the sample with ffmpeg: the full video, and its sound alone."""
    ffmpeg = ffmpeg_exe()
    common = [
        "-hide_banner",
        "-loglevel",
        "error",
        "-y",
        "-i",
        str(video),
        "-f",
        "hls",
        "-hls_time",
        "10",
        "-hls_playlist_type",
        "vod",
    ]
    subprocess.run(
        [
            ffmpeg,
            *common,
            "-c",
            "copy",
            "-hls_segment_filename",
            str(folder / "video-%03d.ts"),
            str(folder / "video.m3u8"),
        ],
        check=True,
    )
    subprocess.run(
        [
            ffmpeg,
            *common,
            "-vn",
            "-c:a",
            "copy",
            "-hls_segment_filename",
            str(folder / "audio-%03d.ts"),
            str(folder / "audio.m3u8"),
        ],
        check=True,
    )
    video_bits = _bitrate(folder, "video")
    audio_bits = _bitrate(folder, "audio")
    (folder / "master.m3u8").write_text(
        "#EXTM3U\n"
        f'#EXT-X-STREAM-INF:BANDWIDTH={video_bits},RESOLUTION=320x180,CODECS="avc1.64000d,mp4a.40.2"\nvideo.m3u8\n'
        f'#EXT-X-STREAM-INF:BANDWIDTH={audio_bits},CODECS="mp4a.40.2"\naudio.m3u8\n'
    )


def _bitrate(folder: Path, variant: str) -> int:
    size = sum(p.stat().st_size for p in folder.glob(f"{variant}-*.ts"))
    return max(1, int(size * 8 / 38))


def _handler(owner: MediaServer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_HEAD(self):  # noqa: N802 (http.server's naming)
            self._answer(head=True)

        def do_GET(self):  # noqa: N802
            self._answer(head=False)

        def _answer(self, head: bool) -> None:
            path = self.path.split("?", 1)[0]
            if owner.take_unavailable(path):
                return self._send(503, b"try again", "text/plain", path, head, {"Retry-After": "0"})
            if path in owner.redirects:
                return self._send(302, b"", "text/plain", path, head, {"Location": owner.redirects[path]})
            if path == "/page.html":
                return self._send(200, owner.page().encode(), _TYPES[".html"], path, head)
            if path == "/captioned.html":
                return self._send(200, owner.page(captions=True).encode(), _TYPES[".html"], path, head)
            if path == "/sample.en.vtt":
                return self._send(200, sample_captions().encode(), _TYPES[".vtt"], path, head)
            file = owner.files.get(path)
            if file is None or not file.is_file():
                return self._send(404, b"not found", "text/plain", path, head)
            self._send_file(file, path, head)

        def _send_file(self, file: Path, path: str, head: bool) -> None:
            data = file.read_bytes()
            kind = _TYPES.get(file.suffix, "application/octet-stream")
            start, end = _range(self.headers.get("Range"), len(data))
            if start is None:
                return self._send(200, data, kind, path, head, {"Accept-Ranges": "bytes"})
            headers = {"Accept-Ranges": "bytes", "Content-Range": f"bytes {start}-{end}/{len(data)}"}
            self._send(206, data[start : end + 1], kind, path, head, headers)

        def _send(self, code: int, body: bytes, kind: str, path: str, head: bool, headers: dict | None = None):
            self.send_response(code)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            if not head:
                self.wfile.write(body)
            owner.count(path, 0 if head else len(body))

        def log_message(self, *args):
            pass

    return Handler


def _range(header: str | None, size: int) -> tuple[int | None, int]:
    if not header or not header.startswith("bytes="):
        return None, size - 1
    first, _, last = header[6:].split(",")[0].partition("-")
    start = int(first) if first else max(0, size - int(last))
    end = min(int(last), size - 1) if first and last else size - 1
    return start, end
