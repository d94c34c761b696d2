#!/usr/bin/env python3
"""Builds data/fashion-1k: a 10-class VTAB-1k style task from Fashion-MNIST (MIT licence).

Layout (the one VTAB-1k folders use): train800.txt, val200.txt, train800val200.txt, test.txt with lines
'images/<split>/<index>.png <label>', images as 28x28 grayscale PNG. Balanced: 80 / 20 / 100 images per
class for train800 / val200 / test. Deterministic (fixed seed).

Needs Debian's dataset-fashion-mnist, python3-numpy and python3-pil:
  apt-get install dataset-fashion-mnist python3-numpy python3-pil
  /usr/bin/python3 tools/data/make_fashion_1k.py [source_dir] [out_dir]
"""
import gzip
import os
import sys

import numpy as np
from PIL import Image

if any(a in ("-h", "--help") for a in sys.argv[1:]):
    print(__doc__)
    sys.exit(0)

SRC = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/datasets/fashion-mnist"
OUT = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), "..", "..", "data", "fashion-1k")
SEED = 20240101
CLASSES = 10


def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)


def balanced(labels, per_class, rng, exclude=()):
    chosen = []
    for c in range(CLASSES):
        pool = np.setdiff1d(np.flatnonzero(labels == c), np.asarray(exclude, dtype=np.int64))
        chosen.extend(rng.choice(pool, per_class, replace=False).tolist())
    rng.shuffle(chosen)
    return chosen


def write(split, images, labels, indices, start):
    folder = os.path.join(OUT, "images", split)
    os.makedirs(folder, exist_ok=True)
    lines = []
    for k, i in enumerate(indices):
        name = f"images/{split}/{start + k:06d}.png"
        Image.fromarray(images[i], mode="L").save(os.path.join(OUT, name), optimize=True)
        lines.append(f"{name} {int(labels[i])}")
    return lines


def main():
    rng = np.random.default_rng(SEED)
    train_x = idx(os.path.join(SRC, "train-images-idx3-ubyte.gz"))
    train_y = idx(os.path.join(SRC, "train-labels-idx1-ubyte.gz"))
    test_x = idx(os.path.join(SRC, "t10k-images-idx3-ubyte.gz"))
    test_y = idx(os.path.join(SRC, "t10k-labels-idx1-ubyte.gz"))
    train800 = balanced(train_y, 80, rng)
    val200 = balanced(train_y, 20, rng, exclude=train800)
    test = balanced(test_y, 100, rng)
    lists = {
        "train800": write("train", train_x, train_y, train800, 0),
        "val200": write("train", train_x, train_y, val200, 800),
        "test": write("test", test_x, test_y, test, 0),
    }
    lists["train800val200"] = lists["train800"] + lists["val200"]
    for name, lines in lists.items():
        with open(os.path.join(OUT, name + ".txt"), "w") as f:
            f.write("\n".join(lines) + "\n")
    with open(os.path.join(OUT, "README.md"), "w") as f:
        f.write("# fashion-1k\n\nA VTAB-1k style 10-class task made from Fashion-MNIST (Xiao et al. 2017, MIT licence)\n"
                "by tools/data/make_fashion_1k.py (seed %d): train800 / val200 / test = 80 / 20 / 100 images per class.\n"
                "Classes: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt, 7 Sneaker, 8 Bag, 9 Ankle boot.\n" % SEED)
    print({k: len(v) for k, v in lists.items()})


if __name__ == "__main__":
    main()
