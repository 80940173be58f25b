#!/usr/bin/env python3
"""Regenerates the VisionIO test fixtures from Pillow / numpy / timm (the references, never our code).

    python3 Tests/VisionIOTests/Fixtures/make_fixtures.py [--samples DIR]

Writes next to this script:
  codecs/*.png, *.jpg      small images in every PNG layout and several JPEG flavours
  codecs/*.rgb             what Pillow decodes each to: Image.open(f).convert("RGB") bytes
                           (exif_* references also go through ImageOps.exif_transpose)
  resize/*.rgb             PIL Image.resize outputs of a small source for each filter / size / box
  preprocess/*.npy         timm eval-transform tensors (3, H, W) float32 for sample photos
  manifest.json            sizes, parameters and file names the Swift tests read
"""
import argparse
import hashlib
import io
import json
import os
import struct
import zlib

import numpy as np
from PIL import Image, ImageOps

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(1234)


# ---------------------------------------------------------------- raw PNG writer
# Pillow cannot write every PNG layout (2-bit gray, 16-bit RGB, LA 16, Adam7), so write them by hand.

def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def pack_row(samples, bit_depth):
    """samples: 1-D array of ints for one scanline (all channels interleaved)."""
    if bit_depth == 16:
        return np.asarray(samples, dtype=">u2").tobytes()
    if bit_depth == 8:
        return np.asarray(samples, dtype=np.uint8).tobytes()
    per_byte = 8 // bit_depth
    out = bytearray()
    for i in range(0, len(samples), per_byte):
        group = list(samples[i:i + per_byte]) + [0] * (per_byte - len(samples[i:i + per_byte]))
        b = 0
        for s in group:
            b = (b << bit_depth) | int(s)
        out.append(b)
    return bytes(out)


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def write_png(path, samples, bit_depth, color_type, palette=None, trns=None, interlace=False, exif=None):
    """samples: (H, W, C) integer array."""
    h, w, c = samples.shape
    raw = bytearray()
    if interlace:
        for x0, y0, dx, dy in ADAM7:
            sub = samples[y0::dy, x0::dx]
            if sub.shape[0] == 0 or sub.shape[1] == 0:
                continue
            for row in sub:
                raw += b"\x00" + pack_row(row.reshape(-1), bit_depth)
    else:
        for row in samples:
            raw += b"\x00" + pack_row(row.reshape(-1), bit_depth)
    data = b"\x89PNG\r\n\x1a\n"
    data += chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, bit_depth, color_type, 0, 0, 1 if interlace else 0))
    if palette is not None:
        data += chunk(b"PLTE", bytes(np.asarray(palette, dtype=np.uint8).reshape(-1)))
    if trns is not None:
        data += chunk(b"tRNS", trns)
    if exif is not None:
        data += chunk(b"eXIf", exif)
    data += chunk(b"IDAT", zlib.compress(bytes(raw), 9))
    data += chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(data)


def pil_rgb(path, transpose=False):
    im = Image.open(path)
    if transpose:
        im = ImageOps.exif_transpose(im)
    im = im.convert("RGB")
    return im.size, np.asarray(im, dtype=np.uint8).tobytes()


def make_codecs(manifest):
    out = os.path.join(HERE, "codecs")
    os.makedirs(out, exist_ok=True)
    entries = []

    def record(name, transpose=False, **extra):
        path = os.path.join(out, name)
        (w, h), rgb = pil_rgb(path, transpose)
        ref = name.replace(".", "_") + (".transposed" if transpose else "") + ".rgb"
        with open(os.path.join(out, ref), "wb") as f:
            f.write(rgb)
        entries.append(dict(file=name, reference=ref, width=w, height=h, exif_transpose=transpose, **extra))

    W, H = 13, 7  # odd sizes exercise partial bytes and partial Adam7 passes
    for bits in (1, 2, 4, 8, 16):
        s = rng.integers(0, 2 ** bits, size=(H, W, 1))
        if bits == 16:
            s[0, :4, 0] = [0, 1, 255, 256]  # Pillow clips I;16 at 255: cover the edge
            s[1] = rng.integers(0, 300, size=(W, 1))
        write_png(os.path.join(out, f"gray{bits}.png"), s, bits, 0)
        record(f"gray{bits}.png", kind="png")
        write_png(os.path.join(out, f"gray{bits}_interlaced.png"), s, bits, 0, interlace=True)
        record(f"gray{bits}_interlaced.png", kind="png")
    write_png(os.path.join(out, "gray8_trns.png"), rng.integers(0, 256, size=(H, W, 1)), 8, 0, trns=b"\x00\x07")
    record("gray8_trns.png", kind="png")
    for bits in (8, 16):
        write_png(os.path.join(out, f"graya{bits}.png"), rng.integers(0, 2 ** bits, size=(H, W, 2)), bits, 4)
        record(f"graya{bits}.png", kind="png")
        write_png(os.path.join(out, f"rgb{bits}.png"), rng.integers(0, 2 ** bits, size=(H, W, 3)), bits, 2)
        record(f"rgb{bits}.png", kind="png")
        write_png(os.path.join(out, f"rgba{bits}.png"), rng.integers(0, 2 ** bits, size=(H, W, 4)), bits, 6)
        record(f"rgba{bits}.png", kind="png")
        write_png(os.path.join(out, f"rgba{bits}_interlaced.png"), rng.integers(0, 2 ** bits, size=(H, W, 4)),
                  bits, 6, interlace=True)
        record(f"rgba{bits}_interlaced.png", kind="png")
    write_png(os.path.join(out, "rgb8_trns.png"), rng.integers(0, 256, size=(H, W, 3)), 8, 2,
              trns=b"\x00\x10\x00\x20\x00\x30")
    record("rgb8_trns.png", kind="png")
    for bits in (1, 2, 4, 8):
        n = 2 ** bits
        palette = rng.integers(0, 256, size=(n, 3))
        idx = rng.integers(0, n, size=(H, W, 1))
        write_png(os.path.join(out, f"palette{bits}.png"), idx, bits, 3, palette=palette)
        record(f"palette{bits}.png", kind="png")
        trns = bytes(rng.integers(0, 256, size=max(1, n // 2)).astype(np.uint8))
        write_png(os.path.join(out, f"palette{bits}_trns.png"), idx, bits, 3, palette=palette, trns=trns)
        record(f"palette{bits}_trns.png", kind="png")
    write_png(os.path.join(out, "palette8_interlaced.png"), rng.integers(0, 200, size=(H, W, 1)), 8, 3,
              palette=rng.integers(0, 256, size=(200, 3)), interlace=True)
    record("palette8_interlaced.png", kind="png")

    # A smooth photo-like source for JPEG so chroma subsampling matters.
    yy, xx = np.mgrid[0:48, 0:40]
    photo = np.stack([(xx * 6) % 256, (yy * 5) % 256, ((xx + yy) * 3) % 256], -1).astype(np.uint8)
    photo = np.clip(photo.astype(int) + rng.integers(-20, 20, size=photo.shape), 0, 255).astype(np.uint8)
    src = Image.fromarray(photo, "RGB")
    src.save(os.path.join(out, "baseline.jpg"), quality=90)
    record("baseline.jpg", kind="jpeg")
    src.save(os.path.join(out, "progressive.jpg"), quality=85, progressive=True)
    record("progressive.jpg", kind="jpeg")
    src.save(os.path.join(out, "subsampling444.jpg"), quality=90, subsampling=0)
    record("subsampling444.jpg", kind="jpeg")
    src.save(os.path.join(out, "subsampling422.jpg"), quality=90, subsampling=1)
    record("subsampling422.jpg", kind="jpeg")
    src.crop((0, 0, 37, 29)).save(os.path.join(out, "odd_size.jpg"), quality=80)
    record("odd_size.jpg", kind="jpeg")
    src.convert("L").save(os.path.join(out, "grayscale.jpg"), quality=90)
    record("grayscale.jpg", kind="jpeg")
    src.convert("CMYK").save(os.path.join(out, "cmyk.jpg"), quality=90)
    cmyk = np.asarray(Image.fromarray(photo).convert("CMYK")).copy()
    cmyk[..., 3] = rng.integers(0, 120, size=cmyk.shape[:2])  # a real K channel
    Image.fromarray(cmyk, "CMYK").save(os.path.join(out, "cmyk_k.jpg"), quality=90)
    record("cmyk.jpg", kind="jpeg")
    record("cmyk_k.jpg", kind="jpeg")

    asym = src.crop((0, 0, 24, 16))  # non-square so every orientation is distinguishable
    for orientation in range(1, 9):
        exif = Image.Exif()
        exif[0x0112] = orientation
        name = f"exif{orientation}.jpg"
        asym.save(os.path.join(out, name), quality=95, exif=exif.tobytes())
        record(name, kind="jpeg")
        record(name, transpose=True, kind="jpeg", orientation=orientation)
    exif = Image.Exif()
    exif[0x0112] = 6
    write_png(os.path.join(out, "exif6.png"), np.asarray(asym), 8, 2, exif=exif.tobytes()[6:] if exif.tobytes().startswith(b"Exif") else exif.tobytes())
    record("exif6.png", transpose=True, kind="png", orientation=6)
    manifest["codecs"] = entries


# ---------------------------------------------------------------- resize
FILTERS = {"nearest": Image.NEAREST, "bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC}


def make_resize(manifest):
    out = os.path.join(HERE, "resize")
    os.makedirs(out, exist_ok=True)
    yy, xx = np.mgrid[0:29, 0:37]
    base = np.stack([(xx * 7) % 256, (yy * 9) % 256, (xx * yy) % 256], -1)
    base = np.clip(base + rng.integers(-60, 60, size=base.shape), 0, 255).astype(np.uint8)
    base[5:9, 5:30] = 255  # hard edges push bicubic over/undershoot into clipping
    base[10:12, :] = 0
    with open(os.path.join(out, "source.rgb"), "wb") as f:
        f.write(base.tobytes())
    src = Image.fromarray(base, "RGB")
    cases = []
    sizes = [(18, 14), (10, 29), (37, 8), (64, 50), (5, 3), (100, 90), (1, 1), (37, 29)]
    boxes = [None, (3, 2, 30, 25), (0, 0, 17, 29)]
    for fname, flt in FILTERS.items():
        for (w, h) in sizes:
            for box in boxes:
                im = src.resize((w, h), flt, box=box)
                name = f"{fname}_{w}x{h}" + ("" if box is None else "_box" + "_".join(map(str, box))) + ".rgb"
                with open(os.path.join(out, name), "wb") as f:
                    f.write(np.asarray(im).tobytes())
                cases.append(dict(filter=fname, width=w, height=h, box=box, reference=name))
    manifest["resize"] = dict(source="source.rgb", width=37, height=29, cases=cases)


# ---------------------------------------------------------------- augmentation point ops
def make_augment(manifest):
    from PIL import ImageEnhance
    from timm.data import auto_augment as aa
    out = os.path.join(HERE, "augment")
    os.makedirs(out, exist_ok=True)
    base = np.frombuffer(open(os.path.join(HERE, "resize", "source.rgb"), "rb").read(), np.uint8).reshape(29, 37, 3)
    src = Image.fromarray(base, "RGB")
    ops = {}
    for f in (0.0, 0.3, 1.0, 1.7):
        ops[f"brightness_{f}"] = ImageEnhance.Brightness(src).enhance(f)
        ops[f"contrast_{f}"] = ImageEnhance.Contrast(src).enhance(f)
        ops[f"saturation_{f}"] = ImageEnhance.Color(src).enhance(f)
        ops[f"sharpness_{f}"] = ImageEnhance.Sharpness(src).enhance(f)
    ops["invert"] = ImageOps.invert(src)
    ops["autocontrast"] = ImageOps.autocontrast(src.point(lambda v: 40 + v // 3))
    ops["equalize"] = ImageOps.equalize(src)
    ops["posterize_3"] = aa.posterize(src, 3)
    ops["solarize_128"] = aa.solarize(src, 128)
    ops["solarize_add_60"] = aa.solarize_add(src, 60)
    ops["flip"] = src.transpose(Image.FLIP_LEFT_RIGHT)
    fill = (124, 116, 104)
    ops["rotate_30"] = src.rotate(30, resample=Image.BILINEAR, fillcolor=fill)
    ops["shearx_0.2"] = src.transform(src.size, Image.AFFINE, (1, 0.2, 0, 0, 1, 0), Image.BILINEAR, fillcolor=fill)
    ops["translatey_-6.5"] = src.transform(src.size, Image.AFFINE, (1, 0, 0, 0, 1, -6.5), Image.BILINEAR, fillcolor=fill)
    cases = []
    for name, im in ops.items():
        with open(os.path.join(out, name + ".rgb"), "wb") as f:
            f.write(np.asarray(im.convert("RGB")).tobytes())
        cases.append(dict(op=name, reference=name + ".rgb"))
    manifest["augment"] = dict(source="resize/source.rgb", width=37, height=29, cases=cases)


# ---------------------------------------------------------------- preprocess (timm eval transform)
PREPROCESS = [
    ("resnet50", "chelsea.png"),
    ("vit_small_patch16_224", "grace_hopper.jpg"),
    ("swin_tiny_patch4_window7_224", "camera.png"),
    ("volo_d1_224", "rocket.jpg"),
    ("tf_efficientnet_lite0", "horse.png"),
]


def make_preprocess(manifest, samples):
    out = os.path.join(HERE, "preprocess")
    os.makedirs(out, exist_ok=True)
    import timm
    from timm.data import create_transform, resolve_data_config
    entries = []
    for model, image in PREPROCESS:
        cfg = timm.models.get_pretrained_cfg(model).to_dict()
        data_cfg = resolve_data_config({}, pretrained_cfg=cfg)
        transform = create_transform(**data_cfg, is_training=False)
        path = os.path.join(samples, image)
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        # timm's loader: Image.open(f).convert("RGB"), no EXIF transpose.
        tensor = transform(Image.open(path).convert("RGB")).numpy().astype("<f4")
        name = f"{model}__{os.path.splitext(image)[0]}.npy"
        np.save(os.path.join(out, name), tensor)
        entries.append(dict(model=model, image=image, sha256=digest, bytes=os.path.getsize(path), tensor=name,
                            input_size=list(data_cfg["input_size"]), crop_pct=data_cfg["crop_pct"],
                            interpolation=data_cfg["interpolation"], mean=list(data_cfg["mean"]),
                            std=list(data_cfg["std"]), crop_mode=data_cfg.get("crop_mode", "center"),
                            transform=repr(transform)))
    manifest["preprocess"] = entries


def main():
    parser = argparse.ArgumentParser()
    default_samples = os.path.join(HERE, "..", "..", "..", "datasets", "samples")
    parser.add_argument("--samples", default=default_samples)
    args = parser.parse_args()
    manifest = {"pillow": Image.__version__, "numpy": np.__version__}
    make_codecs(manifest)
    make_resize(manifest)
    try:
        import timm
        manifest["timm"] = timm.__version__
        make_preprocess(manifest, args.samples)
        make_augment(manifest)
    except ImportError:
        print("timm not installed: preprocess fixtures not regenerated")
    with open(os.path.join(HERE, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)


if __name__ == "__main__":
    main()
