# SPDX-License-Identifier: MIT
#
# Goldens for medical and high-depth images (tests/data/medical/), made
# without the C engine: pydicom reads the files (its own numpy RLE decoder;
# the raw bytes of native pixel data), numpy applies the pipeline the README
# documents, torch resizes. For JPEG and JPEG-LS, which pydicom cannot decode
# without plugins Debian lacks, DCMTK's dcmdjpeg/dcmdjpls command-line tools
# write a native copy first (the decoder is then DCMTK's in both; everything
# after decoding is checked independently).
#
#   CASE.image.npy  (H, W, C) float32: 255 * v, what the engine's XcImage holds
#                   (images up to 128 x 128)
#   CASE.input.npy  (64, 64, C) float32: resized (bilinear, half-pixel) and
#                   preprocessed with tf (x / 127.5 - 1): the network's input
#   cases.txt       CASE FILE FRAME WINDOW (WINDOW "-" for the default)
#   *.dcm, *.png, *.tif   synthetic files (MONOCHROME1, signed 12-bit,
#                   broken ones, 16-bit ramps)
import os
import shutil
import struct
import subprocess
import tempfile
import zlib

import numpy as np
import torch

PYDICOM = "/usr/lib/python3/dist-packages/pydicom/data/test_files"
SIZE = 64


def stored_values(ds, frame):
    """The frame's stored values (PS3.5 8.1.1), from raw bytes."""
    import pydicom
    alloc, bits = int(ds.BitsAllocated), int(ds.BitsStored)
    high = int(ds.get("HighBit", bits - 1))
    signed = int(ds.get("PixelRepresentation", 0)) == 1
    rows, cols = int(ds.Rows), int(ds.Columns)
    spp = int(ds.get("SamplesPerPixel", 1))
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    ts = ds.file_meta.TransferSyntaxUID
    udt = {8: np.uint8, 16: np.uint16, 32: np.uint32}[alloc]
    if ts.is_compressed:
        # pydicom's numpy RLE decoder; the raw bits of each sample
        arr = ds.pixel_array
        arr = arr.reshape((frames, rows, cols, spp) if spp > 1 else (frames, rows, cols))[frame]
        raw = arr.view(udt).astype(np.uint64)
    else:
        order = "<" if ts.is_little_endian else ">"
        dt = np.dtype(udt).newbyteorder(order)
        per = rows * cols * (2 if ds.PhotometricInterpretation == "YBR_FULL_422" else spp)
        flat = np.frombuffer(ds.PixelData, dtype=dt, count=per * (frame + 1))[per * frame:]
        raw = flat.astype(np.uint64)
        if ds.PhotometricInterpretation == "YBR_FULL_422":
            out = np.zeros(rows * cols * 3, dtype=np.uint64)
            out[::6], out[3::6] = raw[::4], raw[1::4]
            out[1::6], out[4::6] = raw[2::4], raw[2::4]
            out[2::6], out[5::6] = raw[3::4], raw[3::4]
            raw = out
        elif spp == 3 and int(ds.get("PlanarConfiguration", 0)) == 1:
            raw = raw.reshape(3, rows * cols).T.reshape(-1)
        raw = raw.reshape((rows, cols, spp) if spp > 1 else (rows, cols))
    v = (raw >> np.uint64(high + 1 - bits)) & np.uint64((1 << bits) - 1)
    v = v.astype(np.float64)
    if signed:
        v = np.where(v >= 2 ** (bits - 1), v - 2 ** bits, v)
    _ = pydicom
    return v


def voi(x, c, w, function="LINEAR"):
    """PS3.3 C.11.2.1.2.1 / C.11.2.1.3, output range [0, 1]."""
    if function == "LINEAR_EXACT":
        return np.where(x <= c - w / 2, 0.0, np.where(x > c + w / 2, 1.0, (x - c) / w + 0.5))
    if function == "SIGMOID":
        return 1.0 / (1.0 + np.exp(-4.0 * (x - c) / w))
    lo, hi = c - 0.5 - (w - 1) / 2, c - 0.5 + (w - 1) / 2
    return np.where(x <= lo, 0.0, np.where(x > hi, 1.0, (x - (c - 0.5)) / (w - 1) + 0.5))


def first(v):
    if v is None:
        return None
    try:
        return float(v[0])
    except TypeError:
        return float(v)


def dicom_image(path, frame, window):
    import pydicom
    from pydicom.pixel_data_handlers.util import convert_color_space
    ds = pydicom.dcmread(path)
    ts = ds.file_meta.TransferSyntaxUID
    tmp = None
    if ts.is_compressed and ts not in (pydicom.uid.RLELossless,):
        tmp = tempfile.NamedTemporaryFile(suffix=".dcm", delete=False).name
        tool = "dcmdjpls" if "JPEG-LS" in ts.name else "dcmdjpeg"
        subprocess.run([tool, path, tmp], check=True)
        ds = pydicom.dcmread(tmp)
        os.unlink(tmp)
    s = stored_values(ds, frame)
    photometric = ds.PhotometricInterpretation
    if int(ds.get("SamplesPerPixel", 1)) == 3:
        if photometric in ("YBR_FULL", "YBR_FULL_422"):
            rgb = convert_color_space(s.astype(np.uint8), "YBR_FULL", "RGB")
            return rgb.astype(np.float64)
        return s / (2.0 ** int(ds.BitsStored) - 1) * 255.0
    slope = float(ds.get("RescaleSlope", 1) or 1)
    intercept = float(ds.get("RescaleIntercept", 0) or 0)
    m = slope * s + intercept
    function = str(ds.get("VOILUTFunction", "LINEAR") or "LINEAR")
    if window is not None:
        v = voi(m, window[0], window[1], function)
    elif first(ds.get("WindowCenter")) is not None:
        v = voi(m, first(ds.WindowCenter), first(ds.WindowWidth), function)
    else:
        v = (m - m.min()) / (m.max() - m.min()) if m.max() > m.min() else np.zeros_like(m)
    if photometric == "MONOCHROME1":
        v = 1.0 - v
    return (v * 255.0)[..., None]


def to_input(image):
    """Bilinear with half-pixel centres, no antialiasing (tf.image.resize),
    then tf preprocessing."""
    t = torch.from_numpy(image.astype(np.float64)).permute(2, 0, 1)[None]
    r = torch.nn.functional.interpolate(t, size=(SIZE, SIZE), mode="bilinear",
                                        align_corners=False, antialias=False)
    x = r[0].permute(1, 2, 0).numpy()
    return x / 127.5 - 1.0


def png_chunk(kind, data):
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))


def write_png16(path, x):
    """A 16-bit PNG (gray or RGB), written by hand: PIL cannot write RGB48."""
    h, w = x.shape[:2]
    color = 2 if x.ndim == 3 else 0
    rows = x.reshape(h, -1).astype(">u2").tobytes()
    stride = len(rows) // h
    raw = b"".join(b"\0" + rows[y * stride:(y + 1) * stride] for y in range(h))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, color, 0, 0, 0)))
        f.write(png_chunk(b"IDAT", zlib.compress(raw)))
        f.write(png_chunk(b"IEND", b""))


def make_synthetic(out):
    import pydicom
    from PIL import Image
    ct = pydicom.dcmread(os.path.join(PYDICOM, "CT_small.dcm"))
    m1 = ct.copy()
    m1.PhotometricInterpretation = "MONOCHROME1"
    m1.WindowCenter, m1.WindowWidth = 40, 400
    m1.save_as(os.path.join(out, "mono1.dcm"))

    # signed 12-bit samples in 16 bits with noise in the 4 unused bits,
    # a rescale, LINEAR_EXACT and two windows (the first is the default)
    rng = np.random.default_rng(9)
    s12 = rng.integers(-2048, 2048, size=(24, 20))
    raw = (s12 & 0xfff) | (rng.integers(0, 16, size=s12.shape) << 12)
    sg = ct.copy()
    sg.Rows, sg.Columns = 24, 20
    sg.BitsAllocated, sg.BitsStored, sg.HighBit, sg.PixelRepresentation = 16, 12, 11, 1
    sg.RescaleSlope, sg.RescaleIntercept = "2.5", "-100"
    sg.WindowCenter = [-300, 0]
    sg.WindowWidth = [3000, 100]
    sg.VOILUTFunction = "LINEAR_EXACT"
    sg.PixelData = raw.astype("<u2").tobytes()
    sg.save_as(os.path.join(out, "signed12.dcm"))

    # broken: absurd size, frames promised but missing, bits that do not fit
    huge = ct.copy()
    huge.Rows, huge.Columns = 65535, 65535
    huge.save_as(os.path.join(out, "broken-huge.dcm"))
    fr = ct.copy()
    fr.NumberOfFrames = 3
    fr.save_as(os.path.join(out, "broken-frames.dcm"))
    bits = ct.copy()
    bits.BitsStored, bits.HighBit = 20, 19
    bits.save_as(os.path.join(out, "broken-bits.dcm"))

    # 16-bit ramps whose low byte matters
    y, x = np.mgrid[0:23, 0:37]
    ramp = ((y * 37 + x) * 1237 + 11) % 65536
    write_png16(os.path.join(out, "ramp16.png"), ramp)
    rgb = np.stack([ramp, (ramp * 7 + 3) % 65536, 65535 - ramp], axis=-1)
    write_png16(os.path.join(out, "ramp16-rgb.png"), rgb)
    Image.fromarray(ramp.astype(np.uint16)).save(os.path.join(out, "ramp16.tif"))
    return ramp, rgb


def make_medical(data):
    out = os.path.join(data, "medical")
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    ramp, rgb = make_synthetic(out)
    P = lambda n: os.path.join(PYDICOM, n)  # noqa: E731
    L = lambda n: os.path.join(out, n)  # noqa: E731
    cases = [
        ("ct", P("CT_small.dcm"), 0, None),
        ("ct-window", P("CT_small.dcm"), 0, (40, 400)),
        ("mr", P("MR_small.dcm"), 0, None),
        ("mr-rle", P("MR_small_RLE.dcm"), 0, None),
        ("mr-bigendian", P("MR_small_bigendian.dcm"), 0, None),
        ("mr-expb", P("MR_small_expb.dcm"), 0, None),
        ("mr-implicit", P("MR_small_implicit.dcm"), 0, None),
        ("mr-padded", P("MR_small_padded.dcm"), 0, None),
        ("mr-jpegls", P("MR_small_jpeg_ls_lossless.dcm"), 0, None),
        ("nm-jpeg-extended", P("JPGExtended.dcm"), 0, None),
        ("nm-jpeg-lossy", P("JPEG-lossy.dcm"), 0, None),
        ("deflated", P("image_dfl.dcm"), 0, None),
        ("rtdose-frame5", P("rtdose.dcm"), 5, None),
        ("rtdose-expb-frame5", P("rtdose_expb.dcm"), 5, None),
        ("rtdose-rle-frame2", P("rtdose_rle.dcm"), 2, None),
        ("rgb-bigendian", P("ExplVR_BigEnd.dcm"), 0, None),
        ("rgb-rle", P("SC_rgb_rle.dcm"), 0, None),
        ("rgb-rle-16bit", P("SC_rgb_rle_16bit.dcm"), 0, None),
        ("rgb-rle-32bit-frame1", P("SC_rgb_rle_32bit_2frame.dcm"), 1, None),
        ("rgb-rle-frame1", P("SC_rgb_rle_2frame.dcm"), 1, None),
        ("rgb-odd", P("SC_rgb_small_odd.dcm"), 0, None),
        ("ybr422-native", P("SC_ybr_full_422_uncompressed.dcm"), 0, None),
        ("rgb-jpeg-lossless", P("SC_rgb_jpeg_gdcm.dcm"), 0, None),
        ("ybr-jpeg-baseline", P("SC_rgb_jpeg_dcmtk.dcm"), 0, None),
        ("mono1", L("mono1.dcm"), 0, None),
        ("signed12", L("signed12.dcm"), 0, None),
        ("signed12-window", L("signed12.dcm"), 0, (-50, 1000)),
    ]
    lines = []
    for name, path, frame, window in cases:
        img = dicom_image(path, frame, window)
        if img.shape[0] * img.shape[1] <= 128 * 128:  # the big ones: their inputs only
            np.save(os.path.join(out, name + ".image.npy"), img.astype(np.float32))
        np.save(os.path.join(out, name + ".input.npy"), to_input(img).astype(np.float32))
        rel = os.path.relpath(path, data) if path.startswith(out) else path
        win = "-" if window is None else "%g,%g" % window
        lines.append("%s %s %d %s" % (name, rel, frame, win))
    # 16-bit PNG and TIFF: v = x / 65535, or a window
    for name, file, x, window in [("png16", "ramp16.png", ramp[..., None], None),
                                  ("png16-window", "ramp16.png", ramp[..., None], (30000, 20001)),
                                  ("png16-rgb", "ramp16-rgb.png", rgb, None),
                                  ("tif16", "ramp16.tif", ramp[..., None], None)]:
        x = x.astype(np.float64)
        img = (voi(x, *window) if window else x / 65535.0) * 255.0
        np.save(os.path.join(out, name + ".image.npy"), img.astype(np.float32))
        np.save(os.path.join(out, name + ".input.npy"), to_input(img).astype(np.float32))
        win = "-" if window is None else "%g,%g" % window
        lines.append("%s medical/%s 0 %s" % (name, file, win))
    with open(os.path.join(out, "cases.txt"), "w") as f:
        f.write("# CASE FILE FRAME WINDOW: made by tests/make_medical.py\n")
        f.write("\n".join(lines) + "\n")
