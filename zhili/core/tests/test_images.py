import contextlib
import datetime as dt
import hashlib
import io
import random
import struct

import pytest
from django.test import override_settings
from PIL import ExifTags, Image, ImageCms
from PIL.TiffImagePlugin import IFDRational

from zhili.core.images import MAX_SIDE, ImageRejected, process_image

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def dms(degrees: int, minutes: int, hundredths_of_seconds: int):
    return (IFDRational(degrees, 1), IFDRational(minutes, 1),
            IFDRational(hundredths_of_seconds, 100))


def exif_for(*, latitude=None, longitude=None, orientation=None, taken=None, offset=None,
             make="HUAWEI") -> Image.Exif:
    """EXIF as a phone writes it; latitude/longitude are (ref, (d, m, s) rationals)."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = make
    exif[ExifTags.Base.Model] = "ALN-AL00 serial 7Q4X"
    if orientation:
        exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    if latitude:
        gps[ExifTags.GPS.GPSLatitudeRef], gps[ExifTags.GPS.GPSLatitude] = latitude
    if longitude:
        gps[ExifTags.GPS.GPSLongitudeRef], gps[ExifTags.GPS.GPSLongitude] = longitude
    tags = exif.get_ifd(ExifTags.IFD.Exif)
    if taken:
        tags[ExifTags.Base.DateTimeOriginal] = taken
    if offset:
        tags[ExifTags.Base.OffsetTimeOriginal] = offset
    return exif


def encode(image: Image.Image, fmt="JPEG", **save) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **save)
    return buffer.getvalue()


def photo(size=(40, 20), fmt="JPEG", **save) -> bytes:
    return encode(Image.new("RGB", size, (200, 30, 30)), fmt, **save)


SHANGHAI_PHOTO = {"latitude": ("N", dms(31, 14, 1234)),
                  "longitude": ("E", dms(121, 28, 4321)), "taken": "2026:03:14 09:26:53"}


def reopen(content: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(content))
    image.load()
    return image


# --- where and when -----------------------------------------------------------------------------


def test_reads_gps_and_time_taken_from_exif():
    result = process_image(photo(exif=exif_for(**SHANGHAI_PHOTO)), "IMG_0001.jpg")
    latitude, longitude = result.gps
    assert latitude == pytest.approx(31 + 14 / 60 + 12.34 / 3600, abs=1e-9)
    assert longitude == pytest.approx(121 + 28 / 60 + 43.21 / 3600, abs=1e-9)
    assert result.taken_at == dt.datetime(2026, 3, 14, 9, 26, 53, tzinfo=SHANGHAI)
    assert result.taken_at.utcoffset() == dt.timedelta(hours=8)


def test_southern_and_western_coordinates_are_negative():
    exif = exif_for(latitude=("S", dms(22, 54, 3000)), longitude=("W", dms(43, 11, 4700)))
    latitude, longitude = process_image(photo(exif=exif), "rio.jpg").gps
    assert latitude == pytest.approx(-(22 + 54 / 60 + 30 / 3600))
    assert longitude == pytest.approx(-(43 + 11 / 60 + 47 / 3600))


@pytest.mark.parametrize("gps", [
    {},  # none at all
    {"latitude": ("N", dms(31, 14, 0))},  # no longitude
    {"latitude": ("", dms(31, 14, 0)), "longitude": ("E", dms(121, 28, 0))},  # no hemisphere
    {"latitude": ("N", dms(0, 0, 0)), "longitude": ("E", dms(0, 0, 0))},  # "no fix" placeholder
    {"latitude": ("N", (IFDRational(31, 0),) * 3), "longitude": ("E", dms(121, 28, 0))},
    {"latitude": ("N", dms(95, 0, 0)), "longitude": ("E", dms(121, 28, 0))},  # out of range
])
def test_missing_or_invalid_gps_gives_none(gps):
    assert process_image(photo(exif=exif_for(**gps)), "a.jpg").gps is None


def test_time_taken_uses_the_recorded_offset_and_ignores_placeholders():
    with_offset = exif_for(taken="2026:03:14 01:26:53", offset="+00:00")
    assert process_image(photo(exif=with_offset), "a.jpg").taken_at == \
        dt.datetime(2026, 3, 14, 9, 26, 53, tzinfo=SHANGHAI)
    placeholder = exif_for(taken="0000:00:00 00:00:00")
    assert process_image(photo(exif=placeholder), "a.jpg").taken_at is None
    assert process_image(photo(), "a.jpg").taken_at is None
    assert process_image(photo(), "a.jpg").gps is None


# --- the stored copy ---------------------------------------------------------------------------


def test_stored_copy_has_no_metadata_at_all():
    source = encode(Image.new("RGB", (40, 20), (200, 30, 30)), "JPEG",
                    exif=exif_for(orientation=1, **SHANGHAI_PHOTO),
                    xmp=b'<x:xmpmeta xmlns:x="adobe:ns:meta/">secret-xmp</x:xmpmeta>',
                    comment=b"secret-comment",
                    icc_profile=ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    assert b"HUAWEI" in source and b"secret-xmp" in source

    result = process_image(source, "IMG_0001.jpg")

    stored = reopen(result.content)
    assert stored.format == "JPEG" and result.content_type == "image/jpeg"
    assert result.extension == "jpg"
    assert len(stored.getexif()) == 0
    assert stored.getexif().get_ifd(ExifTags.IFD.GPSInfo) == {}
    assert not {"exif", "xmp", "icc_profile", "comment"} & set(stored.info)
    for secret in (b"Exif", b"HUAWEI", b"7Q4X", b"secret-xmp", b"secret-comment", b"2026:03"):
        assert secret not in result.content
    assert result.gps is not None and result.taken_at is not None  # read before stripping
    assert result.sha256 == hashlib.sha256(result.content).hexdigest()
    assert (result.width, result.height) == stored.size == (40, 20)


def display_p3_profile() -> bytes:
    """A minimal ICC v2 RGB profile with Display P3 primaries (as on iPhone photos)."""

    def s15(value):
        return struct.pack(">i", round(value * 65536))

    def xyz(x, y, z):
        return b"XYZ \0\0\0\0" + s15(x) + s15(y) + s15(z)

    curve = b"curv\0\0\0\0" + struct.pack(">IH", 1, round(2.2 * 256)) + b"\0\0"
    tags = [(b"wtpt", xyz(0.9642, 1.0, 0.8249)), (b"rXYZ", xyz(0.5151, 0.2412, -0.0011)),
            (b"gXYZ", xyz(0.2920, 0.6922, 0.0419)), (b"bXYZ", xyz(0.1571, 0.0666, 0.7841)),
            (b"rTRC", curve), (b"gTRC", curve), (b"bTRC", curve)]
    offset, table, body = 128 + 4 + 12 * len(tags), b"", b""
    for signature, data in tags:
        table += signature + struct.pack(">II", offset + len(body), len(data))
        body += data
    header = struct.pack(">I4sI4s4s4s12s4s", offset + len(body), b"", 0x02100000, b"mntr",
                         b"RGB ", b"XYZ ", b"", b"acsp").ljust(68, b"\0")
    header += s15(0.9642) + s15(1.0) + s15(0.8249)  # D50
    return header.ljust(128, b"\0") + struct.pack(">I", len(tags)) + table + body


def test_colours_are_converted_to_srgb_and_the_profile_dropped():
    source = encode(Image.new("RGB", (16, 16), (200, 100, 50)), icc_profile=display_p3_profile())
    stored = reopen(process_image(source, "iphone.jpg").content)
    assert "icc_profile" not in stored.info
    # The same P3 orange is more saturated in sRGB numbers (about 216, 93, 24).
    red, green, blue = stored.getpixel((8, 8))
    assert red >= 212 and green <= 96 and blue <= 30

    broken = encode(Image.new("RGB", (16, 16), (200, 100, 50)), icc_profile=b"not a profile")
    stored = reopen(process_image(broken, "a.jpg").content)  # accepted, colours as they are
    assert "icc_profile" not in stored.info
    assert stored.getpixel((8, 8)) == pytest.approx((200, 100, 50), abs=3)


def test_orientation_is_applied_to_the_pixels():
    image = Image.new("RGB", (40, 20), (255, 255, 255))
    image.paste((255, 0, 0), (0, 0, 10, 10))  # a red square in the top-left corner
    # Orientation 6: the camera was turned, the picture must be rotated 90° clockwise to show
    # upright, which moves the top-left corner to the top-right.
    result = process_image(encode(image, exif=exif_for(orientation=6)), "a.jpg")

    assert (result.width, result.height) == (20, 40)
    stored = reopen(result.content)
    assert stored.size == (20, 40) and len(stored.getexif()) == 0
    red, green, _ = stored.getpixel((15, 5))
    assert red > 200 and green < 60
    assert stored.getpixel((5, 5))[1] > 200  # top-left is now white


def test_large_photos_are_scaled_down_to_the_long_side_limit():
    result = process_image(photo(size=(MAX_SIDE + 904, 100)), "wide.jpg")
    assert (result.width, result.height) == (MAX_SIDE, 82)
    assert reopen(result.content).size == (MAX_SIDE, 82)
    assert process_image(photo(size=(MAX_SIDE, 50)), "a.jpg").width == MAX_SIDE  # not resized


def test_png_stays_png_with_its_transparency_and_without_metadata():
    image = Image.new("RGBA", (30, 30), (0, 0, 255, 0))
    image.paste((0, 0, 255, 255), (0, 0, 15, 30))
    source = encode(image, "PNG", exif=exif_for(**SHANGHAI_PHOTO))
    result = process_image(source, "screenshot.png")

    assert (result.content_type, result.extension) == ("image/png", "png")
    stored = reopen(result.content)
    assert stored.format == "PNG" and stored.mode == "RGBA"
    assert stored.getpixel((5, 5)) == (0, 0, 255, 255) and stored.getpixel((25, 5))[3] == 0
    assert len(stored.getexif()) == 0 and b"HUAWEI" not in result.content
    assert result.gps == pytest.approx((31 + 14 / 60 + 12.34 / 3600, 121 + 28 / 60 + 43.21 / 3600))


def test_palette_and_16_bit_pngs_are_stored_faithfully():
    palette = Image.new("P", (10, 10), 1)
    palette.putpalette([0, 0, 0, 255, 0, 0])
    palette.paste(0, (0, 0, 5, 10))
    stored = reopen(process_image(encode(palette, "PNG", transparency=0), "p.png").content)
    assert stored.getpixel((7, 5)) == (255, 0, 0, 255) and stored.getpixel((2, 5))[3] == 0

    keyed = Image.new("RGB", (10, 10), (1, 2, 3))  # a transparent colour key, not an alpha band
    keyed.paste((9, 9, 9), (0, 0, 5, 10))
    stored = reopen(process_image(encode(keyed, "PNG", transparency=(1, 2, 3)), "k.png").content)
    assert stored.getpixel((7, 5))[3] == 0 and stored.getpixel((2, 5)) == (9, 9, 9, 255)

    grey = Image.new("I;16", (10, 10), 32768)  # mid grey in 16 bits
    stored = reopen(process_image(encode(grey, "PNG"), "g.png").content)
    assert stored.mode == "L" and stored.getpixel((5, 5)) == 128


def test_webp_stays_webp():
    result = process_image(photo(fmt="WEBP", exif=exif_for(**SHANGHAI_PHOTO)), "a.webp")
    assert (result.content_type, result.extension) == ("image/webp", "webp")
    stored = reopen(result.content)
    assert stored.format == "WEBP" and len(stored.getexif()) == 0
    assert b"HUAWEI" not in result.content and result.gps is not None


def test_cmyk_jpeg_and_multi_frame_jpeg_are_stored_as_plain_rgb_jpeg():
    cmyk = process_image(encode(Image.new("CMYK", (20, 20), (0, 255, 255, 0))), "print.jpg")
    assert reopen(cmyk.content).mode == "RGB"
    # Phones often append frames (HDR gain map, preview) to the JPEG; Pillow calls that MPO.
    first = Image.new("RGB", (40, 20), (200, 30, 30))
    mpo = encode(first, "MPO", save_all=True, append_images=[Image.new("RGB", (8, 8))],
                 exif=exif_for(**SHANGHAI_PHOTO))
    assert Image.open(io.BytesIO(mpo)).format == "MPO"
    result = process_image(mpo, "IMG_0002.jpg")
    stored = reopen(result.content)
    assert (result.content_type, stored.format, stored.size) == ("image/jpeg", "JPEG", (40, 20))
    assert getattr(stored, "n_frames", 1) == 1 and result.gps is not None


# --- refusals ----------------------------------------------------------------------------------


def test_gif_and_other_types_are_refused_by_content():
    gif = encode(Image.new("RGB", (10, 10)), "GIF")
    with pytest.raises(ImageRejected, match="This is a GIF file; only JPEG, PNG and WebP"):
        process_image(gif, "cat.jpg")  # the name does not matter
    bmp = encode(Image.new("RGB", (10, 10)), "BMP")
    with pytest.raises(ImageRejected, match="BMP"):
        process_image(bmp, "a.bmp")
    tiff = encode(Image.new("RGB", (10, 10)), "TIFF")
    with pytest.raises(ImageRejected, match="TIFF"):
        process_image(tiff, "a.tiff")
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 100
    with pytest.raises(ImageRejected, match="HEIC"):
        process_image(heic, "IMG_0003.HEIC")
    svg = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"></svg>'
    with pytest.raises(ImageRejected, match="SVG"):
        process_image(svg, "logo.png")


def test_a_text_file_named_jpg_is_refused():
    with pytest.raises(ImageRejected, match="not a picture"):
        process_image("这不是图片，只是改了扩展名".encode(), "photo.jpg")
    with pytest.raises(ImageRejected, match="empty"):
        process_image(b"", "photo.jpg")


def test_oversize_files_are_refused():
    data = photo(size=(200, 200))
    with pytest.raises(ImageRejected, match=r"The photo is [\d.]+ KB; the limit is 1 KB"):
        process_image(data, "a.jpg", max_bytes=1024)
    assert process_image(data, "a.jpg", max_bytes=len(data)).width == 200
    with override_settings(ZHILI_MAX_PHOTO_MB=1), \
            pytest.raises(ImageRejected, match="the limit is 1 MB"):
        process_image(b"\xff\xd8" + b"\x00" * (1024 * 1024), "a.jpg")


def test_too_many_pixels_are_refused_before_decoding():
    # 4000 × 4000 of one colour is a few KB of PNG but 48 MB once decoded.
    bomb = encode(Image.new("RGB", (4000, 4000)), "PNG")
    assert len(bomb) < 100_000
    with pytest.raises(ImageRejected, match="4000 × 4000 pixels; the limit is 1 million"):
        process_image(bomb, "a.png", max_pixels=1_000_000)


@pytest.mark.parametrize("pixels", [1500, 5000])  # Pillow warns above 1000 and raises above 2000
def test_pillows_decompression_bomb_checks_become_rejections(monkeypatch, pixels):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    with pytest.raises(ImageRejected, match="too many pixels"):
        process_image(photo(size=(pixels, 1)), "a.jpg")


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_truncated_files_are_refused(fmt):
    image = Image.effect_noise((64, 64), 64).convert("RGB")  # noise: no tiny encodings
    data = encode(image, fmt)
    with pytest.raises(ImageRejected, match="damaged or incomplete"):
        process_image(data[: len(data) // 2], f"a.{fmt.lower()}")


@pytest.mark.filterwarnings("ignore:Truncated File Read")  # Pillow, on damaged EXIF
def test_damaged_files_never_raise_anything_but_rejection():
    rng = random.Random(7)
    sources = [encode(Image.effect_noise((32, 32), 64).convert("RGB"), fmt, exif=exif_for(
        orientation=6, **SHANGHAI_PHOTO)) for fmt in ("JPEG", "PNG", "WEBP")]
    for data in sources:
        for _ in range(40):
            damaged = bytearray(data[: rng.randrange(1, len(data) + 1)])
            for _ in range(rng.randrange(0, 4)):
                damaged[rng.randrange(len(damaged))] = rng.randrange(256)
            with contextlib.suppress(ImageRejected):
                process_image(bytes(damaged), "a.jpg")
