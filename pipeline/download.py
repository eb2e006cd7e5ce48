"""Downloads with yt-dlp: the smallest audio-only stream that serves transcription, captions,
and metadata — every connection and redirect checked by the URL guard.

The only module that imports yt-dlp. yt-dlp's own HTTP stack is kept (it knows the sites), but
a :class:`GuardedYoutubeDL` sends everything through one request handler whose connections go
only to addresses :class:`pipeline.urlguard.ConnectionGuard` accepts; other downloaders
(ffmpeg, aria2c) are never used, so nothing connects behind the guard's back.

Transient failures (429, 5xx, timeouts, dropped connections) are retried by the one policy for
remote calls (``pipeline.retrying``), not by yt-dlp, whose own retries are off: a retried fetch
resumes from the partial file yt-dlp keeps, and the policy's budget suits a long download.
"""

from __future__ import annotations

import functools
import re
import urllib.error
from collections import deque
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yt_dlp
from yt_dlp.networking import _urllib
from yt_dlp.utils import DownloadError

from pipeline import defaults, retrying
from pipeline.errors import ErrorCode, StepError
from pipeline.media import ffmpeg_exe
from pipeline.providers.base import ProgressFn
from pipeline.urlguard import ConnectionGuard, UnsafeURL

__all__ = ["AUDIO_FORMAT", "Downloaded", "Downloader", "GuardedYoutubeDL", "download_error"]

#: Smallest audio-only stream that still carries speech well (>= 32 kb/s), else the smallest
#: audio-only one, else the smallest file with sound in it.
AUDIO_FORMAT = "wa[abr>=32]/wa/w[acodec!=none]/w"
#: Caption formats the transcript parser reads, best first.
CAPTION_FORMAT = "vtt/srt/best"
#: Tries and time budget of one download call (a long download needs a long budget).
POLICY = retrying.CallPolicy(max_tries=defaults.DOWNLOAD_TRIES, budget_s=defaults.DOWNLOAD_BUDGET_S)


@dataclass(frozen=True)
class Downloaded:
    info: dict
    media_path: Path
    captions_path: Path | None
    bytes_downloaded: int


class _GuardedUrllibRH(_urllib.UrllibRH):
    """yt-dlp's urllib handler with guarded connections and redirect hops."""

    _SUPPORTED_URL_SCHEMES = ("http", "https")
    _SUPPORTED_PROXY_SCHEMES = ()
    _SUPPORTED_FEATURES = ()

    def __init__(self, *, guard: ConnectionGuard, **kwargs):
        super().__init__(**kwargs)
        self.guard = guard

    def _create_instance(self, proxies, cookiejar, legacy_ssl_support=None):
        opener = super()._create_instance({}, cookiejar, legacy_ssl_support)
        for handler in opener.handlers:
            if isinstance(handler, _urllib.HTTPHandler):
                handler.do_open = _guarded_open(handler.do_open, self.guard)
            elif isinstance(handler, _urllib.RedirectHandler):
                handler.redirect_request = _guarded_redirect(handler.redirect_request, self.guard)
        return opener


def _guarded_open(do_open: Callable, guard: ConnectionGuard) -> Callable:
    def open_checked(http_class, request, **kwargs):
        def connection(*args, **kw):
            conn = http_class(*args, **kw)
            conn._create_connection = guard.create_connection  # http.client connects through this
            return conn

        return do_open(connection, request, **kwargs)

    return open_checked


def _guarded_redirect(redirect_request: Callable, guard: ConnectionGuard) -> Callable:
    def redirect_checked(req, fp, code, msg, headers, newurl):
        try:
            guard.check_hop(newurl)
        except UnsafeURL as exc:
            raise urllib.error.URLError(str(exc)) from None
        return redirect_request(req, fp, code, msg, headers, newurl)

    return redirect_checked


class GuardedYoutubeDL(yt_dlp.YoutubeDL):
    """A YoutubeDL whose only request handler is the guarded one."""

    def __init__(self, params: dict, guard: ConnectionGuard):
        self.guard = guard
        super().__init__(params)

    def build_request_director(self, handlers, preferences=None):
        return super().build_request_director([functools.partial(_GuardedUrllibRH, guard=self.guard)])


class _QuietLogger:
    """yt-dlp talks a lot; keep its last lines (a skipped download is only said there)."""

    def __init__(self):
        self.lines: deque[str] = deque(maxlen=50)

    def debug(self, message: str) -> None:
        self.lines.append(message)

    info = warning = error = debug


class Downloader:
    """Fetch one video's audio (and captions) into ``folder``."""

    def __init__(
        self,
        folder: Path,
        guard: ConnectionGuard,
        *,
        max_bytes: int | None = None,
        progress: ProgressFn | None = None,
        audio_format: str = AUDIO_FORMAT,
        policy: retrying.CallPolicy = POLICY,
    ):
        self.folder = Path(folder)
        self.guard = guard
        self.policy = policy
        self.logger = _QuietLogger()
        self._progress = progress
        self._bytes = 0
        self.ydl = GuardedYoutubeDL(self._params(max_bytes, audio_format), guard)

    def _params(self, max_bytes: int | None, audio_format: str) -> dict:
        return {
            "format": audio_format,
            "outtmpl": {"default": str(self.folder / "media.%(ext)s")},
            "quiet": True,
            "no_warnings": False,
            "noprogress": True,
            "logger": self.logger,
            "noplaylist": True,
            "playlist_items": "1",
            "cachedir": False,
            "ffmpeg_location": ffmpeg_exe(),
            "postprocessors": [],
            "fixup": "never",
            "hls_prefer_native": True,
            "external_downloader": {},
            "proxy": "",
            "socket_timeout": defaults.DOWNLOAD_SOCKET_TIMEOUT_S,
            "retries": 0,  # pipeline.retrying is the one retry policy
            "fragment_retries": 0,
            "extractor_retries": 0,
            "max_filesize": max_bytes,
            "progress_hooks": [self._hook],
            "writesubtitles": True,
            "writeautomaticsub": True,
            "subtitlesformat": CAPTION_FORMAT,
            "subtitleslangs": [],
        }

    def _hook(self, status: dict) -> None:
        done = status.get("downloaded_bytes") or 0
        total = status.get("total_bytes") or status.get("total_bytes_estimate")
        if status.get("status") == "finished":
            self._bytes += done
        if self._progress and total:
            self._progress(min(1.0, done / total))

    def metadata(self, url: str) -> dict:
        """What the site says about the video, before anything big is downloaded."""
        return self._retried(lambda: _first_entry(self.ydl, self.ydl.extract_info(url, download=False, process=False)))

    def fetch(self, info: dict) -> Downloaded:
        """Download the chosen audio stream and the best captions for ``info``."""
        self.ydl.params["subtitleslangs"] = _caption_languages(info)
        result = self._retried(lambda: self.ydl.process_ie_result(dict(info), download=True))
        media = _downloaded_file(result)
        if media is None:
            raise StepError(ErrorCode.INVALID_INPUT, _not_downloaded_reason(self.logger.lines))
        return Downloaded(
            info=result,
            media_path=media,
            captions_path=_captions_file(result),
            bytes_downloaded=self._bytes or media.stat().st_size,
        )

    def _retried(self, call: Callable[[], dict]) -> dict:
        def once() -> dict:
            with _mapped_errors(self.guard):
                return call()

        return retrying.call(once, classify=_own_errors, policy=self.policy, what="download")


def _own_errors(exc: BaseException) -> StepError | None:
    """The downloader's errors are classified already (``download_error``); others are bugs."""
    return exc if isinstance(exc, StepError) else None


def _first_entry(ydl: yt_dlp.YoutubeDL, info: dict) -> dict:
    """A page with several videos gives a playlist: take its first video."""
    while info.get("_type") in ("playlist", "multi_video", "url", "url_transparent"):
        if info.get("_type") in ("url", "url_transparent"):
            info = ydl.extract_info(info["url"], download=False, process=False, ie_key=info.get("ie_key"))
            continue
        entries = list(info.get("entries") or [])
        if not entries:
            raise StepError(ErrorCode.INVALID_INPUT, "the page has no video in it")
        info = entries[0]
    if info.get("is_live"):
        raise StepError(ErrorCode.INVALID_INPUT, "this stream is still live; submit it again once it has ended")
    return info


def _caption_languages(info: dict) -> list[str]:
    """One caption track: the video's language, else English, else the first a person made.
    yt-dlp takes a person's captions before automatic ones of the same language."""
    manual, automatic = info.get("subtitles") or {}, info.get("automatic_captions") or {}
    for language in (info.get("language"), "en", "en-US", "en-GB", "en-orig"):
        if language and (language in manual or language in automatic):
            return [language]
    return list(manual)[:1]


def _downloaded_file(result: dict) -> Path | None:
    for item in result.get("requested_downloads") or []:
        path = item.get("filepath") or item.get("_filename")
        if path and Path(path).is_file():
            return Path(path)
    return None


def _captions_file(result: dict) -> Path | None:
    for track in (result.get("requested_subtitles") or {}).values():
        path = track.get("filepath")
        if path and Path(path).is_file():
            return Path(path)
    return None


def _not_downloaded_reason(lines) -> str:
    if any("max-filesize" in line for line in lines):
        return "the media is larger than the upload limit (CLIPINSIGHT_MAX_UPLOAD_MB)"
    return "no media with sound was found at this link"


@contextmanager
def _mapped_errors(guard: ConnectionGuard):
    try:
        yield
    except DownloadError as exc:
        raise download_error(str(exc), guard.refusals) from None


#: (pattern in yt-dlp's message, error code, what to tell the creator). First match wins.
_ERRORS: list[tuple[str, ErrorCode, str]] = [
    (
        r"private video|video is private",
        ErrorCode.INVALID_INPUT,
        "this video is private; make it public or unlisted, or upload the file",
    ),
    (
        r"sign in to confirm your age|age[- ]restricted",
        ErrorCode.INVALID_INPUT,
        "this video is age-restricted and cannot be downloaded; upload the file instead",
    ),
    (
        r"members[- ]only|join this channel",
        ErrorCode.INVALID_INPUT,
        "this video is for channel members only; upload the file instead",
    ),
    (
        r"requested format is not available|no video formats found",
        ErrorCode.INVALID_INPUT,
        "no media with sound was found at this link",
    ),
    (
        r"removed|no longer available|account .* terminated|video unavailable|not available",
        ErrorCode.INVALID_INPUT,
        "this video was removed or is unavailable; check the link",
    ),
    (
        r"unsupported url",
        ErrorCode.INVALID_INPUT,
        "no video was found at this link; use a YouTube link or a direct link to a media file",
    ),
    (
        r"http error 404|404: not found|\b404\b",
        ErrorCode.INVALID_INPUT,
        "the link leads to a page that does not exist (404); check the link",
    ),
    (
        r"http error 410|http error 401|http error 403",
        ErrorCode.INVALID_INPUT,
        "the site refused to share this media; check that the link opens without signing in",
    ),
    (
        r"http error 429|too many requests",
        ErrorCode.RATE_LIMITED,
        "the video site is limiting requests right now; the download will be retried",
    ),
    (r"timed out|timeout", ErrorCode.TIMEOUT, "the video site took too long to answer; the download will be retried"),
    (
        r"network is unreachable",  # no name resolves from this machine (urlguard.NetworkUnreachable)
        ErrorCode.NETWORK_ERROR,
        "the network is unreachable from this machine (not the link); the download will be retried",
    ),
    (
        r"http error 5\d\d|connection|network|name resolution|unreachable|reset by peer|transport|unable to download",
        ErrorCode.NETWORK_ERROR,
        "the video site could not be reached; the download will be retried",
    ),
]


def download_error(message: str, refusals: list[str] | None = None) -> StepError:
    """A classified error for a yt-dlp failure, in words a creator understands."""
    if refusals:
        return StepError(ErrorCode.INVALID_INPUT, refusals[0])
    text = message.lower()
    for pattern, code, words in _ERRORS:
        if re.search(pattern, text):
            return StepError(code, words)
    return StepError(ErrorCode.UPLOAD_FAILED, f"the download failed: {_short(message)}")


def _short(message: str) -> str:
    return message.replace("ERROR: ", "").strip().splitlines()[0][:300] if message.strip() else "unknown error"
