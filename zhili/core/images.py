"""Checking and cleaning photos uploaded from grid workers' phones.

`process_image()` accepts JPEG, PNG and WebP, judged by decoding the content (never by the
file name), and returns a copy that is safe to store and show:

* Every piece of metadata is dropped: EXIF (GPS position, device, serial numbers), XMP, IPTC,
  comments, PNG text chunks, and the ICC colour profile too. The profile is not personal, but it
  can hold arbitrary text, so rather than keep it the pixels are converted to sRGB (what a
  browser assumes for an untagged image): a phone's Display P3 photo then keeps its colours
  everywhere instead of looking washed out. Where and when the photo was taken are read before
  stripping and returned separately, so the caller decides who may see them.
* The EXIF orientation is applied to the pixels (it is metadata, so it would be lost).
* It is re-encoded in its own format (JPEG at quality 85, WebP lossy at 85, PNG lossless) and
  at most MAX_SIDE pixels on the long side; re-encoding also drops anything appended to the
  file. Of an animated PNG or WebP only the first frame is kept.

Decoding is the dangerous part: the pixel count is checked from the header before decoding
(a small file can expand to gigabytes), and every decoder error becomes ImageRejected.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
import math
import numbers
import struct
import warnings
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.translation import gettext as _
from PIL import ExifTags, Image, ImageCms

logger = logging.getLogger(__name__)

MAX_SIDE = 4096
JPEG_QUALITY = 85
# Phones write the local wall-clock time without a zone; ours are in China.
PHOTO_TIME_ZONE = ZoneInfo("Asia/Shanghai")

# Pillow format → (content type, extension). MPO is how Pillow names a JPEG that carries extra
# frames after the photo (HDR gain maps, previews, depth maps), as many phones write them; the
# first frame is the photo itself.
FORMATS = {
    "JPEG": ("image/jpeg", "jpg"),
    "MPO": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
}
OPEN_AS = ("JPEG", "PNG", "WEBP")  # Pillow opens MPO through its JPEG plugin
SAVE_AS = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "WEBP": "WEBP"}
STORABLE_MODES = {"JPEG": ("L", "RGB"), "PNG": ("L", "LA", "RGB", "RGBA"), "WEBP": ("RGB", "RGBA")}

# EXIF Orientation → the transposition that shows the image upright (EXIF 2.3, tag 0x0112).
UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

# What Pillow's decoders raise on broken input (SyntaxError: malformed PNG chunks; struct.error
# and IndexError: short or inconsistent headers).
DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error)


class ImageRejected(ValueError):
    """The upload is not a photo we accept; str(exc) is a message for the user."""


@dataclass(frozen=True)
class ProcessedImage:
    content: bytes  # the copy to store: re-encoded, upright, without metadata
    content_type: str  # "image/jpeg", "image/png" or "image/webp"
    extension: str  # "jpg", "png" or "webp" (no dot)
    width: int  # of the stored copy
    height: int
    gps: tuple[float, float] | None  # (latitude, longitude), decimal degrees, WGS-84
    taken_at: dt.datetime | None  # aware
    sha256: str  # hex digest of `content`


def process_image(data: bytes, filename: str, *, max_bytes: int | None = None,
                  max_pixels: int = 40_000_000) -> ProcessedImage:
    """Check an uploaded photo and return a clean copy with where and when it was taken.

    `filename` is only logged: the type is decided by the content. Raises ImageRejected with a
    message for the user.
    """
    try:
        return _process(data, max_bytes=max_bytes, max_pixels=max_pixels)
    except ImageRejected as exc:
        logger.info("photo %r rejected: %s", filename, exc)
        raise


def _process(data: bytes, *, max_bytes: int | None, max_pixels: int) -> ProcessedImage:
    if max_bytes is None:
        max_bytes = getattr(settings, "ZHILI_MAX_PHOTO_MB", 10) * 1024 * 1024
    if not data:
        raise ImageRejected(_("The file is empty."))
    if len(data) > max_bytes:
        raise ImageRejected(_("The photo is %(size)s; the limit is %(limit)s.")
                            % {"size": _size(len(data)), "limit": _size(max_bytes)})
    image = _decode(data, max_pixels)
    with image:
        return _clean_copy(image)


def _decode(data: bytes, max_pixels: int) -> Image.Image:
    """The opened image with its first frame decoded (the photo, for MPO), or ImageRejected."""
    try:
        # Pillow warns (DecompressionBombWarning) above Image.MAX_IMAGE_PIXELS and raises above
        # twice that; the warning must stop us too. catch_warnings() swaps the process-wide
        # filter list and is not thread-safe before Python 3.14: a thread entering or leaving
        # it at the same time can carry this filter away or put it back after us. What is at
        # stake is small: a DecompressionBombWarning elsewhere may become an error, or one here
        # may only be printed, and then our own max_pixels check still refuses the image
        # (unless a caller sets max_pixels above Pillow's limit of about 89 million).
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=OPEN_AS)
            width, height = image.size  # from the header: nothing is decoded yet
            if width * height > max_pixels:
                raise ImageRejected(
                    _("The photo is %(width)d × %(height)d pixels; the limit is %(limit)s "
                      "million pixels.")
                    % {"width": width, "height": height, "limit": f"{max_pixels / 1e6:g}"})
            image.load()
            return image
    except ImageRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRejected(_("The photo has too many pixels to be processed safely.")) from None
    except Image.UnidentifiedImageError:  # no JPEG, PNG or WebP decoder recognised it
        kind = _refused_kind(data)
        if kind:
            raise ImageRejected(_("This is a %(kind)s file; only JPEG, PNG and WebP photos are "
                                  "accepted.") % {"kind": kind}) from None
        raise ImageRejected(_("The file is not a picture; only JPEG, PNG and WebP photos are "
                              "accepted.")) from None
    except DECODE_ERRORS:
        raise ImageRejected(_("The photo is damaged or incomplete; take or send it again.")) \
            from None


def _clean_copy(image: Image.Image) -> ProcessedImage:
    exif = _exif(image)
    gps, taken_at = _gps(exif), _taken_at(exif)
    save_as = SAVE_AS[image.format]
    content_type, extension = FORMATS[image.format]
    icc_profile = image.info.get("icc_profile")

    pixels: Image.Image = image
    if (method := UPRIGHT.get(exif.get(ExifTags.Base.Orientation))) is not None:
        pixels = pixels.transpose(method)
    if pixels.mode not in ("L", "LA", "RGB", "RGBA", "CMYK") or "transparency" in pixels.info:
        pixels = _eight_bit(pixels)  # before resizing: palette and 1-bit images resize badly
    if max(pixels.size) > MAX_SIDE:
        scale = MAX_SIDE / max(pixels.size)
        size = (max(1, round(pixels.width * scale)), max(1, round(pixels.height * scale)))
        pixels = pixels.resize(size, Image.Resampling.LANCZOS)
    pixels = _to_srgb(pixels, icc_profile)
    if pixels.mode not in STORABLE_MODES[save_as]:
        pixels = pixels.convert("RGBA" if "A" in pixels.mode else "RGB")

    # A new image holds only pixels. Pillow's encoders copy some things from the source's
    # `info` (PNG keeps the ICC profile and transparency by default, and an image can carry
    # default encoder options), so building the copy from scratch is what guarantees that no
    # metadata reaches the stored file, whatever a Pillow upgrade adds.
    clean = Image.new(pixels.mode, pixels.size)
    clean.paste(pixels)
    buffer = io.BytesIO()
    if save_as == "JPEG":
        clean.save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=True)
    elif save_as == "WEBP":
        clean.save(buffer, "WEBP", quality=JPEG_QUALITY)
    else:
        clean.save(buffer, "PNG")
    content = buffer.getvalue()
    return ProcessedImage(content=content, content_type=content_type, extension=extension,
                          width=clean.width, height=clean.height, gps=gps, taken_at=taken_at,
                          sha256=hashlib.sha256(content).hexdigest())


def _eight_bit(image: Image.Image) -> Image.Image:
    """Palette, 1-bit and 16-bit images as 8-bit grey or RGB(A), keeping transparency."""
    if image.mode in ("I", "I;16", "I;16L", "I;16B"):
        # 16-bit grey; convert("L") would clip every value above 255 to white. A transparent
        # colour key on such an image (very rare) is lost.
        return image.convert("I").point(lambda value: value / 256).convert("L")
    if image.mode == "1":
        return image.convert("L")
    transparent = "A" in image.mode or "transparency" in image.info
    return image.convert("RGBA" if transparent else "RGB")


def _to_srgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """Pixels converted from their embedded profile to sRGB; unchanged when there is no usable
    profile (the profile is dropped either way)."""
    if not icc_profile or image.mode not in ("RGB", "RGBA", "CMYK"):
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        if source.profile.xcolor_space.strip() != {"RGBA": "RGB"}.get(image.mode, image.mode):
            return image  # a grey profile on colour pixels, say: not worth guessing
        return ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"),
                                         outputMode="RGBA" if image.mode == "RGBA" else "RGB")
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return image  # a broken profile: the colours may be slightly off, the photo is fine


# --- metadata ----------------------------------------------------------------------------------
# Metadata is a bonus: a photo with broken or absent EXIF is still accepted, without it.


def _exif(image: Image.Image) -> Image.Exif:
    try:
        exif = image.getexif()
        exif.get_ifd(ExifTags.IFD.GPSInfo)  # parse the sub-IFDs now, inside the try
        exif.get_ifd(ExifTags.IFD.Exif)
        return exif
    except DECODE_ERRORS + (KeyError, TypeError, ZeroDivisionError):
        return Image.Exif()


def _gps(exif: Image.Exif) -> tuple[float, float] | None:
    """(latitude, longitude) in decimal degrees, south and west negative.

    EXIF positions are WGS-84, as the GPS chip reports them; showing them on a Chinese map
    (GCJ-02) needs the map's conversion, not here. None when a coordinate or its N/S/E/W
    reference is missing or invalid (guessing the hemisphere would put the photo elsewhere),
    and for 0,0, which some phones write when they have no fix.
    """
    try:
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
        latitude = _degrees(gps.get(ExifTags.GPS.GPSLatitude),
                            gps.get(ExifTags.GPS.GPSLatitudeRef), "N", "S", 90)
        longitude = _degrees(gps.get(ExifTags.GPS.GPSLongitude),
                             gps.get(ExifTags.GPS.GPSLongitudeRef), "E", "W", 180)
    except DECODE_ERRORS + (KeyError, TypeError, ZeroDivisionError):
        return None
    if latitude is None or longitude is None or (latitude == 0 and longitude == 0):
        return None
    return latitude, longitude


def _degrees(value, ref, positive: str, negative: str, limit: float) -> float | None:
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", "replace")
    ref = ref.strip("\x00 ").upper() if isinstance(ref, str) else ""
    if ref not in (positive, negative):
        return None
    # Normally (degrees, minutes, seconds) as rationals; some writers give fewer parts.
    parts = [value] if isinstance(value, numbers.Real) else value
    if not isinstance(parts, tuple | list) or not 1 <= len(parts) <= 3:
        return None
    parts = [float(part) for part in parts]  # a rational with denominator 0 becomes nan
    if not all(math.isfinite(part) and part >= 0 for part in parts):
        return None
    degrees = sum(part / 60**i for i, part in enumerate(parts))
    if degrees > limit:
        return None
    return -degrees if ref == negative else degrees


def _taken_at(exif: Image.Exif) -> dt.datetime | None:
    """DateTimeOriginal, in the zone of OffsetTimeOriginal when the phone wrote one (EXIF 2.31),
    otherwise taken to be China's time; returned in PHOTO_TIME_ZONE."""
    try:
        tags = exif.get_ifd(ExifTags.IFD.Exif)
        taken = _text(tags.get(ExifTags.Base.DateTimeOriginal))[:19]
        zone = _utc_offset(_text(tags.get(ExifTags.Base.OffsetTimeOriginal))) or PHOTO_TIME_ZONE
        return dt.datetime.strptime(taken, "%Y:%m:%d %H:%M:%S").replace(tzinfo=zone) \
            .astimezone(PHOTO_TIME_ZONE)
    except (ValueError, OverflowError, TypeError):
        return None  # absent, or a placeholder such as "0000:00:00 00:00:00"


def _utc_offset(text: str) -> dt.timezone | None:
    try:
        return dt.datetime.strptime(text, "%z").tzinfo  # "+08:00"
    except ValueError:
        return None


def _text(value) -> str:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    return value.strip("\x00 ") if isinstance(value, str) else ""


# --- messages --------------------------------------------------------------------------------


def _size(n_bytes: int) -> str:
    if n_bytes >= 1024 * 1024:
        return f"{n_bytes / (1024 * 1024):.3g} MB"
    return f"{n_bytes / 1024:.3g} KB"


def _refused_kind(data: bytes) -> str | None:
    """The name of a well-known type we do not accept, for a clearer message. Only consulted
    after Pillow failed to open the content as JPEG, PNG or WebP; nothing is decoded."""
    head = data[:32]
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "GIF"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "TIFF"  # also camera RAW files (DNG, NEF, CR2), which are TIFF inside
    if head.startswith(b"BM") and len(head) >= 18 and \
            int.from_bytes(head[14:18], "little") in (12, 40, 52, 56, 64, 108, 124):
        return "BMP"
    if head[4:8] == b"ftyp" and head[8:12] in (b"avif", b"avis"):
        return "AVIF"
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"hevc", b"hevx", b"heim",
                                               b"heis", b"mif1", b"msf1"):
        return "HEIC"  # iPhones' default; "Most Compatible" in the camera settings gives JPEG
    if head.startswith(b"%PDF-"):
        return "PDF"
    start = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if start.startswith(b"<") and b"<svg" in start:
        return "SVG"
    return None
