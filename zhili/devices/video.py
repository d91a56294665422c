"""The video platform (视频平台, the third platform of 三台合一): recordings and live pictures of
the cameras registered here, served by a GB/T 28181 platform the city already runs (for
example wvp-GB28181-pro in front of a ZLMediaKit media server).

Zhili never stores or relays video. It asks the platform to open a stream of one camera, for
a time window (playback) or now (live), and hands the browser the stream's address, so the
video goes from the media server to the viewer directly and the platform's own limits and
logs apply. Everything that can go wrong on the way (platform down, slow, refusing, a camera
offline or without recordings) becomes a `VideoUnavailable` with a message for the user:
a page showing evidence must never fail because the video side does.

`platform()` returns the adapter named by `ZHILI_VIDEO_PLATFORM`:

- ``""`` (default): none; pages say that no video platform is connected.
- ``"fake"``: `FakePlatform`, deterministic addresses that play nothing (tests, the demo).
- ``"wvp"``: `WvpPlatform`, the REST API of wvp-GB28181-pro at `ZHILI_VIDEO_URL`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from zhili.devices.codes import InvalidDeviceCode, parse_gb28181

# The longest window one request may open: evidence is minutes around a moment, and a long
# playback holds a channel of the recorder (they have few) for nothing.
MAX_WINDOW = dt.timedelta(hours=2)
# How long a returned address is worth using. Media servers close a stream nobody watches
# after a short while (ZLMediaKit: about a minute without readers) and wvp's own playback
# sessions end with the window; past this the page asks again rather than show a dead link.
LINK_LIFETIME = dt.timedelta(minutes=10)


class VideoUnavailable(Exception):
    """The video cannot be had now; `message` says why, in words for the user."""

    def __init__(self, message):
        self.message = str(message)
        super().__init__(self.message)


@dataclass(frozen=True)
class Playback:
    """Where to watch a stream: `url` (for the browser), until `expires_at`, and the
    platform's own name of the stream (`platform_ref`, kept in the audit log so a viewing can
    be traced on the platform too). `media_type` says what a <video> element gets, "" when
    it needs a player (FLV, RTSP)."""

    url: str
    expires_at: dt.datetime
    platform_ref: str
    media_type: str = ""


class VideoPlatform:
    """The adapter interface. `device_code` is the camera's GB/T 28181 code (the channel);
    `recorder_code` the code of the recorder (NVR) it is a channel of, when it has one (a
    camera registering on its own is its own device)."""

    name = ""

    def playback(self, device_code: str, start: dt.datetime, end: dt.datetime, *,
                 recorder_code: str = "") -> Playback:
        raise NotImplementedError

    def live(self, device_code: str, *, recorder_code: str = "") -> Playback:
        raise NotImplementedError

    # -- checks shared by every platform ------------------------------------------------------
    @staticmethod
    def check_code(code: str) -> str:
        try:
            return parse_gb28181(code)["code"]
        except InvalidDeviceCode as exc:
            raise VideoUnavailable(_("The camera's code %(code)s is not a GB/T 28181 code: "
                                     "%(why)s") % {"code": code, "why": exc.message}) from None

    @staticmethod
    def check_window(start: dt.datetime, end: dt.datetime) -> None:
        if timezone.is_naive(start) or timezone.is_naive(end):
            raise ValueError("playback windows are aware datetimes")  # a programming error
        if end <= start:
            raise VideoUnavailable(_("The end of the window must come after its start."))
        if end - start > MAX_WINDOW:
            raise VideoUnavailable(_("A playback window is at most two hours."))
        if start > timezone.now():
            raise VideoUnavailable(_("There is no recording of the future yet."))


# --- the fake -------------------------------------------------------------------------------------

class FakePlatform(VideoPlatform):
    """A platform that answers at once with addresses derived from the request alone, under
    the reserved .invalid domain (RFC 6761): they never resolve, so nothing pretends to be
    real video. Codes listed in `offline` answer as a camera that does not respond."""

    name = "fake"
    BASE = "https://video.invalid"

    def __init__(self, offline: frozenset[str] | set[str] = frozenset()):
        self.offline = frozenset(offline)

    def _device(self, device_code: str, recorder_code: str) -> tuple[str, str]:
        code = self.check_code(device_code)
        recorder = self.check_code(recorder_code) if recorder_code else code
        if code in self.offline or recorder in self.offline:
            raise VideoUnavailable(_("Camera %(code)s does not answer (offline).")
                                   % {"code": code})
        return code, recorder

    def playback(self, device_code, start, end, *, recorder_code=""):
        code, recorder = self._device(device_code, recorder_code)
        self.check_window(start, end)
        span = f"{_utc(start)}-{_utc(end)}"
        return Playback(url=f"{self.BASE}/playback/{recorder}/{code}/{span}.mp4",
                        expires_at=timezone.now() + LINK_LIFETIME,
                        platform_ref=f"fake:playback/{code}/{span}", media_type="video/mp4")

    def live(self, device_code, *, recorder_code=""):
        code, recorder = self._device(device_code, recorder_code)
        return Playback(url=f"{self.BASE}/live/{recorder}/{code}.mp4",
                        expires_at=timezone.now() + LINK_LIFETIME,
                        platform_ref=f"fake:live/{code}", media_type="video/mp4")


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


# --- wvp-GB28181-pro ------------------------------------------------------------------------------

# Stream addresses in wvp's answer (StreamContent), best first for a browser: fragmented MP4
# plays in a plain <video>, HLS in some browsers, FLV and the rest need a player.
FORMATS = (("fmp4", "video/mp4"), ("hls", "application/vnd.apple.mpegurl"), ("flv", ""),
           ("ws_flv", ""), ("rtc", ""), ("rtsp", ""), ("rtmp", ""))
STREAM_SCHEMES = {"http", "https", "ws", "wss", "rtsp", "rtsps", "rtmp", "rtmps", "webrtc"}
TOKEN_HEADER = "access-token"  # wvp's JwtUtils.HEADER
API_KEY_HEADER = "api-key"  # wvp's JwtUtils.API_KEY_HEADER (keys made on its API-key page)
# wvp's login tokens live 30 minutes by default; renew well before.
TOKEN_REUSE = 20 * 60
_tokens: dict[tuple[str, str], tuple[str, float]] = {}
_tokens_lock = threading.Lock()


class WvpPlatform(VideoPlatform):
    """wvp-GB28181-pro's REST API (its web front end uses the same calls):

    - sign-in: ``GET /api/user/login?username=…&password=<MD5 of the password, hex>`` →
      ``{"code": 0, "data": {"accessToken": …}}``; later calls send it in the ``access-token``
      header (re-signed once on a 401). Without a user name the password is taken as an API
      key made on wvp's API-key page and sent in the ``api-key`` header instead.
    - playback: ``GET /api/playback/start/{deviceId}/{channelId}?startTime=…&endTime=…``,
      times as ``YYYY-MM-DD HH:MM:SS`` in the platform's local time (`TIME_ZONE`);
    - live: ``GET /api/play/start/{deviceId}/{channelId}``.

    deviceId is the code of the recorder (NVR) the camera is a channel of, or the camera's
    own code when it registers by itself; channelId is the camera's code. Both answer
    ``{"code": 0, "msg": …, "data": StreamContent}``: `app`/`stream` name the stream
    (kept as `platform_ref`, with the media server's id), the address fields (`fmp4`,
    `https_fmp4`, `hls`, `flv`, …) say where to watch it; the https variant is used when Zhili
    talks to wvp over https. Any other code is a refusal and its `msg` is shown.
    """

    name = "wvp"

    def __init__(self, base_url: str, *, user: str = "", password: str = "",
                 timeout: float = 6.0):
        parsed = urllib.parse.urlsplit(base_url or "")
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise VideoUnavailable(_("The video platform's address (ZHILI_VIDEO_URL) must be "
                                     "an http:// or https:// URL."))
        self.base_url = base_url.rstrip("/")
        self.secure = parsed.scheme == "https"
        self.user, self.password, self.timeout = user, password, timeout

    # -- the two calls --------------------------------------------------------------------------
    def playback(self, device_code, start, end, *, recorder_code=""):
        code = self.check_code(device_code)
        recorder = self.check_code(recorder_code) if recorder_code else code
        self.check_window(start, end)
        data = self._call(f"/api/playback/start/{recorder}/{code}",
                          {"startTime": _local(start), "endTime": _local(end)})
        return self._playback(data)

    def live(self, device_code, *, recorder_code=""):
        code = self.check_code(device_code)
        recorder = self.check_code(recorder_code) if recorder_code else code
        return self._playback(self._call(f"/api/play/start/{recorder}/{code}", {}))

    def _playback(self, data) -> Playback:
        if not isinstance(data, dict):
            raise VideoUnavailable(_("The video platform answered without a stream."))
        url, media_type = self._address(data)
        ref = "/".join(str(data.get(k)) for k in ("app", "stream") if data.get(k))
        if data.get("mediaServerId"):
            ref = f"{data['mediaServerId']}:{ref}"
        return Playback(url=url, expires_at=timezone.now() + LINK_LIFETIME,
                        platform_ref=f"wvp:{ref}", media_type=media_type)

    def _address(self, data: dict) -> tuple[str, str]:
        for name, media_type in FORMATS:
            url = (data.get(f"https_{name}") if self.secure else None) or data.get(name)
            # The address ends up in a link: only stream schemes, never javascript: or data:.
            if isinstance(url, str) and urllib.parse.urlsplit(url).scheme in STREAM_SCHEMES:
                return url, media_type
        raise VideoUnavailable(_("The video platform answered without a stream address."))

    # -- HTTP -----------------------------------------------------------------------------------
    def _call(self, path: str, params: dict):
        header, token = self._credentials()
        try:
            answer = self._get(path, params, {header: token} if token else {})
        except _Unauthorised:
            if header != TOKEN_HEADER:
                raise VideoUnavailable(_("The video platform refused Zhili's API key "
                                         "(ZHILI_VIDEO_PASSWORD).")) from None
            self._forget_token()
            header, token = self._credentials()
            try:
                answer = self._get(path, params, {header: token})
            except _Unauthorised:
                raise VideoUnavailable(_("The video platform refused Zhili's sign-in.")) \
                    from None
        return self._data(answer)

    def _credentials(self) -> tuple[str, str]:
        if not self.user:
            return API_KEY_HEADER, self.password
        key = (self.base_url, self.user)
        with _tokens_lock:
            cached = _tokens.get(key)
        if cached and time.monotonic() - cached[1] < TOKEN_REUSE:
            return TOKEN_HEADER, cached[0]
        digest = hashlib.md5(self.password.encode(), usedforsecurity=False).hexdigest()
        try:
            answer = self._get("/api/user/login", {"username": self.user,
                                                   "password": digest}, {})
        except _Unauthorised:
            answer = {"code": 401, "msg": "unauthorised"}
        if not isinstance(answer, dict) or answer.get("code") != 0:
            raise VideoUnavailable(_("The video platform refused Zhili's sign-in (check "
                                     "ZHILI_VIDEO_USER and ZHILI_VIDEO_PASSWORD)."))
        data = answer.get("data") or {}
        token = data.get("accessToken") if isinstance(data, dict) else None
        if not token:
            raise VideoUnavailable(_("The video platform's sign-in gave no access token."))
        with _tokens_lock:
            _tokens[key] = (token, time.monotonic())
        return TOKEN_HEADER, token

    def _forget_token(self) -> None:
        with _tokens_lock:
            _tokens.pop((self.base_url, self.user), None)

    def _get(self, path: str, params: dict, headers: dict):
        url = self.base_url + path + ("?" + urllib.parse.urlencode(params) if params else "")
        request = urllib.request.Request(url, headers={"Accept": "application/json",
                                                       **headers})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body = response.read(1024 * 1024)
        except urllib.error.HTTPError as exc:
            if exc.code in (401, 403):
                raise _Unauthorised from None
            raise VideoUnavailable(_("The video platform answered with an error (HTTP "
                                     "%(status)s).") % {"status": exc.code}) from None
        except TimeoutError:
            raise VideoUnavailable(_("The video platform did not answer within %(s)s "
                                     "seconds.") % {"s": f"{self.timeout:g}"}) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, TimeoutError):
                raise VideoUnavailable(_("The video platform did not answer within %(s)s "
                                         "seconds.") % {"s": f"{self.timeout:g}"}) from None
            raise VideoUnavailable(_("The video platform cannot be reached (%(reason)s).")
                                   % {"reason": reason}) from None
        try:
            return json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise VideoUnavailable(_("The video platform's answer could not be read.")) \
                from None

    @staticmethod
    def _data(answer):
        if not isinstance(answer, dict):
            raise VideoUnavailable(_("The video platform's answer could not be read."))
        if answer.get("code") in (401, 403):  # some versions answer 200 with the code inside
            raise VideoUnavailable(_("The video platform refused Zhili's sign-in."))
        if answer.get("code") != 0:
            message = answer.get("msg") or answer.get("code")
            raise VideoUnavailable(_("The video platform could not open the video: "
                                     "%(message)s") % {"message": message})
        return answer.get("data")


class _Unauthorised(Exception):
    pass


def _local(moment: dt.datetime) -> str:
    # wvp parses "yyyy-MM-dd HH:mm:ss" in its own zone, which is the city's.
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S")


# --- the factory ----------------------------------------------------------------------------------

def platform() -> VideoPlatform | None:
    """The configured platform, or None when none is (ZHILI_VIDEO_PLATFORM empty). A setting
    that cannot work raises VideoUnavailable naming it, so the page says what to fix."""
    name = (getattr(settings, "ZHILI_VIDEO_PLATFORM", "") or "").strip().lower()
    if not name:
        return None
    if name == "fake":
        return FakePlatform()
    if name == "wvp":
        return WvpPlatform(getattr(settings, "ZHILI_VIDEO_URL", ""),
                           user=getattr(settings, "ZHILI_VIDEO_USER", "") or "",
                           password=getattr(settings, "ZHILI_VIDEO_PASSWORD", "") or "",
                           timeout=float(getattr(settings, "ZHILI_VIDEO_TIMEOUT", 6)))
    raise VideoUnavailable(_("Unknown video platform %(name)s in ZHILI_VIDEO_PLATFORM (use wvp "
                             "or fake).") % {"name": name})
