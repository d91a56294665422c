"""The video-platform adapters: the fake's deterministic answers, and WvpPlatform against a
small wvp-like HTTP server started here (sign-in, playback, live, refusals, a slow or absent
platform) — every failure a VideoUnavailable with a message, never another exception."""

import contextlib
import datetime as dt
import hashlib
import json
import socket
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from zhili.devices import video
from zhili.devices.video import FakePlatform, VideoUnavailable, WvpPlatform, platform

CAMERA = "32061201481328000002"
RECORDER = "32061201481188000001"


def window(minutes=5):
    at = timezone.now() - dt.timedelta(hours=2)
    return at - dt.timedelta(minutes=minutes), at + dt.timedelta(minutes=minutes)


# --- the fake -------------------------------------------------------------------------------------

def test_fake_is_deterministic_and_checks_what_it_is_given():
    fake = FakePlatform()
    start, end = window()
    first = fake.playback(CAMERA, start, end, recorder_code=RECORDER)
    again = fake.playback(CAMERA, start, end, recorder_code=RECORDER)
    assert first.url == again.url and first.platform_ref == again.platform_ref
    assert first.url.startswith("https://video.invalid/playback/" + RECORDER + "/" + CAMERA)
    assert first.expires_at > timezone.now() and first.media_type == "video/mp4"
    assert fake.playback(CAMERA, start, end + dt.timedelta(seconds=1)).url != first.url
    assert fake.live(CAMERA).url.endswith(f"/live/{CAMERA}/{CAMERA}.mp4")
    with pytest.raises(VideoUnavailable, match="GB/T 28181"):
        fake.playback("XR-1", start, end)
    with pytest.raises(VideoUnavailable):
        fake.playback(CAMERA, end, start)
    with pytest.raises(VideoUnavailable):
        fake.playback(CAMERA, start, start + dt.timedelta(hours=3))
    future = timezone.now() + dt.timedelta(hours=1)
    with pytest.raises(VideoUnavailable):
        fake.playback(CAMERA, future, future + dt.timedelta(minutes=5))
    with pytest.raises(VideoUnavailable, match="offline"):
        FakePlatform(offline={CAMERA}).playback(CAMERA, start, end)


def test_factory_follows_the_settings(settings):
    settings.ZHILI_VIDEO_PLATFORM = ""
    assert platform() is None
    settings.ZHILI_VIDEO_PLATFORM = "fake"
    assert isinstance(platform(), FakePlatform)
    settings.ZHILI_VIDEO_PLATFORM = "wvp"
    settings.ZHILI_VIDEO_URL = "http://127.0.0.1:18080"
    settings.ZHILI_VIDEO_TIMEOUT = 2
    made = platform()
    assert isinstance(made, WvpPlatform) and made.timeout == 2
    settings.ZHILI_VIDEO_URL = "file:///etc/passwd"
    with pytest.raises(VideoUnavailable, match="ZHILI_VIDEO_URL"):
        platform()
    settings.ZHILI_VIDEO_PLATFORM = "hikvision"
    with pytest.raises(VideoUnavailable, match="ZHILI_VIDEO_PLATFORM"):
        platform()


# --- a wvp-like server ----------------------------------------------------------------------------

class Wvp:
    """What the test server does: its token, what it answers, and what it was asked."""

    def __init__(self):
        self.user, self.password, self.api_key = "zhili", "Secret#1", "KEY-123"
        self.token, self.tokens_issued = "token-1", 0
        self.requests: list[tuple] = []
        self.answer = None  # override: (status, body)
        self.delay = 0.0

    def stream(self, app="rtp", stream="32061201481188000001_32061201481328000002"):
        base = "http://media.example:8080"
        return {"app": app, "stream": stream, "mediaServerId": "zlm-1",
                "flv": f"{base}/{app}/{stream}.live.flv",
                "fmp4": f"{base}/{app}/{stream}.live.mp4",
                "https_fmp4": f"https://media.example:443/{app}/{stream}.live.mp4",
                "hls": f"{base}/{app}/{stream}/hls.m3u8", "rtsp": f"rtsp://media.example/{stream}"}


@pytest.fixture
def wvp():
    state = Wvp()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            url = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(url.query))
            state.requests.append((url.path, query, self.headers))  # case-insensitive
            if state.delay:
                time.sleep(state.delay)
            if state.answer is not None:
                status, body = state.answer
                return self.reply(status, body)
            if url.path == "/api/user/login":
                md5 = hashlib.md5(state.password.encode(), usedforsecurity=False).hexdigest()
                if query.get("username") == state.user and query.get("password") == md5:
                    state.tokens_issued += 1
                    return self.reply(200, {"code": 0, "msg": "success",
                                            "data": {"accessToken": state.token}})
                return self.reply(200, {"code": -1, "msg": "fail"})
            if self.headers.get("access-token") != state.token and \
                    self.headers.get("api-key") != state.api_key:
                return self.reply(401, {"code": 401, "msg": "unauthorised"})
            if url.path.startswith(("/api/playback/start/", "/api/play/start/")):
                if url.path.endswith("/32061201481328000099"):
                    return self.reply(200, {"code": 100, "msg": "点播超时"})
                return self.reply(200, {"code": 0, "msg": "成功", "data": state.stream()})
            return self.reply(404, {"code": 404})

        def reply(self, status, body):
            raw = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            # The client may have given up waiting (the timeout test).
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(raw)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    video._tokens.clear()
    yield state
    server.shutdown()
    server.server_close()
    video._tokens.clear()


def client(wvp, **kwargs):
    options = {"user": wvp.user, "password": wvp.password, "timeout": 2, **kwargs}
    return WvpPlatform(wvp.url, **options)


def test_playback_signs_in_and_maps_the_call(wvp):
    start, end = window()
    got = client(wvp).playback(CAMERA, start, end, recorder_code=RECORDER)
    assert got.url.endswith(".live.mp4") and got.url.startswith("http://media.example:8080")
    assert got.media_type == "video/mp4"
    assert got.platform_ref == "wvp:zlm-1:rtp/32061201481188000001_32061201481328000002"
    login, call = wvp.requests
    assert login[0] == "/api/user/login"
    assert login[1]["password"] == hashlib.md5(b"Secret#1", usedforsecurity=False).hexdigest()
    assert call[0] == f"/api/playback/start/{RECORDER}/{CAMERA}"
    # The platform's local time, to the second.
    assert call[1] == {"startTime": timezone.localtime(start).strftime("%Y-%m-%d %H:%M:%S"),
                       "endTime": timezone.localtime(end).strftime("%Y-%m-%d %H:%M:%S")}
    assert call[2]["access-token"] == "token-1"
    # The token is reused by the next call (and the next platform object).
    client(wvp).live(CAMERA)
    assert wvp.tokens_issued == 1 and wvp.requests[-1][0] == f"/api/play/start/{CAMERA}/{CAMERA}"


def test_https_addresses_when_zhili_talks_https(wvp):
    platform_ = client(wvp)
    platform_.secure = True  # as if ZHILI_VIDEO_URL were https://
    assert platform_.live(CAMERA).url.startswith("https://media.example:443/")


def test_an_expired_token_is_renewed_once(wvp):
    client(wvp).live(CAMERA)
    wvp.token = "token-2"  # the platform restarted: the old token is refused
    assert client(wvp).live(CAMERA).url
    assert wvp.tokens_issued == 2


def test_api_key_without_user(wvp):
    got = client(wvp, user="", password=wvp.api_key).live(CAMERA)
    assert got.url and wvp.requests[-1][2]["api-key"] == wvp.api_key
    assert not any(path == "/api/user/login" for path, _q, _h in wvp.requests)
    with pytest.raises(VideoUnavailable, match="API key"):
        client(wvp, user="", password="wrong").live(CAMERA)


@pytest.mark.parametrize(("answer", "message"), [
    ((200, {"code": 100, "msg": "点播超时"}), "点播超时"),
    ((500, {"code": 500}), "HTTP 500"),
    ((200, b"<html>gateway</html>"), "could not be read"),
    ((200, {"code": 0, "data": {"app": "rtp", "stream": "x"}}), "without a stream address"),
    ((200, {"code": 0, "data": {"flv": "javascript:alert(1)"}}), "without a stream address"),
])
def test_refusals_become_messages(wvp, answer, message):
    client(wvp).live(CAMERA)  # signed in first
    wvp.answer = answer
    start, end = window()
    with pytest.raises(VideoUnavailable, match=message):
        client(wvp).playback(CAMERA, start, end)


def test_wrong_password(wvp):
    with pytest.raises(VideoUnavailable, match="ZHILI_VIDEO_USER"):
        client(wvp, password="nope").live(CAMERA)


def test_a_camera_that_does_not_answer(wvp):
    with pytest.raises(VideoUnavailable, match="点播超时"):
        client(wvp).live("32061201481328000099")


def test_slow_platform_times_out(wvp):
    wvp.delay = 1.5
    started = time.monotonic()
    with pytest.raises(VideoUnavailable, match="did not answer within 0.5 seconds"):
        client(wvp, timeout=0.5).live(CAMERA)
    assert time.monotonic() - started < 1.4


def test_absent_platform():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(VideoUnavailable, match="cannot be reached"):
        WvpPlatform(f"http://127.0.0.1:{port}", user="u", password="p", timeout=1).live(CAMERA)
