#!/usr/bin/python3
# SPDX-License-Identifier: MIT
#
# Writes resources/samples/: twelve Fashion-MNIST test images (the first of
# each class, then two more) as 28x28 gray PNGs, from Debian's
# dataset-fashion-mnist. Run from the project root.
import gzip
import os

import numpy as np
from PIL import Image

SRC = "/usr/share/datasets/fashion-mnist"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "resources", "samples")
NAMES = ["t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag",
         "ankle-boot"]

with gzip.open(os.path.join(SRC, "t10k-images-idx3-ubyte.gz")) as f:
    images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
with gzip.open(os.path.join(SRC, "t10k-labels-idx1-ubyte.gz")) as f:
    labels = np.frombuffer(f.read(), np.uint8, offset=8)

os.makedirs(OUT, exist_ok=True)
chosen = []
for c in range(10):
    chosen.append(int(np.nonzero(labels == c)[0][0]))
chosen += [int(np.nonzero(labels == 0)[0][1]), int(np.nonzero(labels == 9)[0][1])]
for i in chosen:
    name = "fmnist-test-%04d-%s.png" % (i, NAMES[labels[i]])
    Image.fromarray(images[i], "L").save(os.path.join(OUT, name))
    print(name)
