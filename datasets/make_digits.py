"""Writes scikit-learn's handwritten digits (1797 real 8x8 scans, UCI ML repository, CC BY 4.0) as
an ImageFolder:  OUT/train/<digit>/*.png and OUT/val/<digit>/*.png, a deterministic 80/20 split.
The data is read from the scikit-learn wheel on PyPI (no install needed).
Run: python3 datasets/make_digits.py datasets/digits"""
import csv, gzip, io, os, struct, subprocess, sys, tempfile, zipfile, zlib

def png(path, pixels, size):
    """8-bit grayscale PNG, written with zlib only."""
    raw = b"".join(b"\x00" + bytes(pixels[y * size:(y + 1) * size]) for y in range(size))
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))

def digits_csv():
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-q", "-d", tmp,
                        "scikit-learn==1.7.2"], check=True)
        wheel = [f for f in os.listdir(tmp) if f.endswith(".whl")][0]
        with zipfile.ZipFile(os.path.join(tmp, wheel)) as z:
            return gzip.decompress(z.read("sklearn/datasets/data/digits.csv.gz")).decode()

def main(out):
    rows = [list(map(float, r)) for r in csv.reader(io.StringIO(digits_csv())) if r]
    counts = {}
    for i, row in enumerate(rows):
        label = int(row[-1])
        counts[label] = counts.get(label, 0) + 1
        split = "val" if counts[label] % 5 == 0 else "train"   # every fifth sample of a class → validation
        folder = os.path.join(out, split, str(label))
        os.makedirs(folder, exist_ok=True)
        png(os.path.join(folder, f"{i:04d}.png"), [min(255, int(v * 16)) for v in row[:-1]], 8)
    print(f"{len(rows)} digits written to {out}/train and {out}/val")

if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "datasets/digits")
