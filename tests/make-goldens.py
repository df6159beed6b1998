#!/usr/bin/python3
# SPDX-License-Identifier: MIT
#
# Makes every golden under tests/data with Debian's python3-torch and
# python3-h5py (keras_torch.py, independent of the C engine):
#   ops/CASE.h5, CASE.in.npy, CASE.out.npy   small Keras models, one op or a few each
#   fer/*.npy                                the FER mini-Xception from ../shared on the faces
#   xception/*.npy                           the built-in Xception with seeded weights
#   medical/*                                DICOM and 16-bit images (make_medical.py)
#   localize/*                               boxes and localisation metrics (make_localize.py)
# Run from the project root:  /usr/bin/python3 tests/make-goldens.py
import json
import math
import os
import sys

import h5py
import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import keras_torch as kt  # noqa: E402

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
SHARED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared")


def L(cls, name, inbound, **cfg):
    cfg["name"] = name
    return {"class_name": cls, "name": name, "config": cfg,
            "inbound_nodes": [[[i, 0, 0, {}] for i in inbound]] if inbound else []}


def functional(layers, out):
    return {"class_name": "Model", "config": {
        "name": "model_1", "layers": layers,
        "input_layers": [[layers[0]["name"], 0, 0]], "output_layers": [[out, 0, 0]]}}


def weight_shapes(cls, cfg, cin):
    """Keras' weight names and shapes for a layer with cin input channels."""
    if cls in ("Conv2D", "DepthwiseConv2D", "SeparableConv2D"):
        k = kt.pair(cfg["kernel_size"], None)
        dm = cfg.get("depth_multiplier", 1)
        if cls == "Conv2D":
            w = [("kernel", (k[0], k[1], cin, cfg["filters"]))]
            cout = cfg["filters"]
        elif cls == "DepthwiseConv2D":
            w = [("depthwise_kernel", (k[0], k[1], cin, dm))]
            cout = cin * dm
        else:
            w = [("depthwise_kernel", (k[0], k[1], cin, dm)),
                 ("pointwise_kernel", (1, 1, cin * dm, cfg["filters"]))]
            cout = cfg["filters"]
        if cfg.get("use_bias", True):
            w.append(("bias", (cout,)))
        return w, cout
    if cls == "BatchNormalization":
        w = []
        if cfg.get("scale", True):
            w.append(("gamma", (cin,)))
        if cfg.get("center", True):
            w.append(("beta", (cin,)))
        return w + [("moving_mean", (cin,)), ("moving_variance", (cin,))], cin
    if cls == "Dense":
        w = [("kernel", (cin, cfg["units"]))]
        if cfg.get("use_bias", True):
            w.append(("bias", (cfg["units"],)))
        return w, cfg["units"]
    return [], cin


def out_hw(cls, cfg, h, w):
    if cls in ("Conv2D", "DepthwiseConv2D", "SeparableConv2D", "MaxPooling2D",
               "AveragePooling2D"):
        k = kt.pair(cfg.get("kernel_size", cfg.get("pool_size")), (2, 2))
        s = kt.pair(cfg.get("strides"), k if "pool_size" in cfg else (1, 1))
        if cfg.get("padding", "valid") == "same":
            return -(-h // s[0]), -(-w // s[1])
        return (h - k[0]) // s[0] + 1, (w - k[1]) // s[1] + 1
    return h, w


def channels_and_weights(layers, make):
    """Walks a layer list, creating weights with make(cls, wname, shape, tensor_index)."""
    shp = {}
    weights = {}
    tensor = 0
    for cls, name, cfg, inb in layers:
        if cls == "InputLayer":
            shp[name] = tuple(cfg["batch_input_shape"][1:])
            continue
        h, w, cin = shp[inb[0]]
        if cls == "Flatten":
            shp[name] = (1, 1, h * w * cin)
            continue
        ws, cout = weight_shapes(cls, cfg, cin)
        arrs = []
        for wname, shape in ws:
            arrs.append((wname, make(cls, wname, shape, tensor)))
            tensor += 1
        if arrs:
            weights[name] = arrs
        h, w = out_hw(cls, cfg, h, w)
        if cls.startswith("Global") or cls == "Dense":
            h = w = 1
        shp[name] = (h, w, cout)
    return weights


def random_weights(rng):
    def make(cls, wname, shape, tensor):
        if wname == "moving_variance":
            return rng.uniform(0.5, 1.5, shape).astype(np.float32)
        if wname == "gamma":
            return rng.uniform(0.5, 1.5, shape).astype(np.float32)
        if wname in ("beta", "moving_mean", "bias"):
            return rng.uniform(-0.5, 0.5, shape).astype(np.float32)
        fan_in = int(np.prod(shape[:-1])) if wname != "depthwise_kernel" else shape[0] * shape[1]
        return rng.uniform(-1, 1, shape).astype(np.float32) * np.float32(math.sqrt(3.0 / fan_in))
    return make


def save(path, arr):
    np.save(path, np.ascontiguousarray(arr, dtype=np.float32))


# ---------------------------------------------------------------- op cases

def op_cases():
    I = lambda h, w, c: L("InputLayer", "input_1", None, batch_input_shape=[None, h, w, c],
                          dtype="float32")
    cases = {}
    cases["conv3x3_s2_same_odd"] = ([I(9, 9, 3), L("Conv2D", "conv", ["input_1"], filters=4,
        kernel_size=[3, 3], strides=[2, 2], padding="same", use_bias=True, activation="relu")],
        "conv")
    cases["conv3x3_s2_same_even"] = ([I(8, 10, 3), L("Conv2D", "conv", ["input_1"], filters=5,
        kernel_size=[3, 3], strides=[2, 2], padding="same", use_bias=False, activation="linear")],
        "conv")
    cases["conv5x5_valid"] = ([I(11, 9, 2), L("Conv2D", "conv", ["input_1"], filters=3,
        kernel_size=[5, 5], strides=[1, 1], padding="valid", use_bias=True, activation="tanh")],
        "conv")
    cases["conv5x5_s2_same"] = ([I(10, 11, 3), L("Conv2D", "conv", ["input_1"], filters=4,
        kernel_size=5, strides=2, padding="same", use_bias=True, activation="sigmoid")], "conv")
    cases["conv1x1"] = ([I(7, 5, 6), L("Conv2D", "conv", ["input_1"], filters=9,
        kernel_size=[1, 1], strides=[1, 1], padding="valid", use_bias=True, activation="relu6")],
        "conv")
    cases["conv1x1_s2_same_odd"] = ([I(7, 9, 4), L("Conv2D", "conv", ["input_1"], filters=6,
        kernel_size=[1, 1], strides=[2, 2], padding="same", use_bias=False, activation="linear")],
        "conv")
    cases["depthwise_dm2_s2_same_odd"] = ([I(9, 7, 3), L("DepthwiseConv2D", "dw", ["input_1"],
        kernel_size=[3, 3], strides=[2, 2], padding="same", depth_multiplier=2, use_bias=True,
        activation="linear")], "dw")
    cases["depthwise_5x5_valid"] = ([I(9, 8, 4), L("DepthwiseConv2D", "dw", ["input_1"],
        kernel_size=[5, 5], strides=[1, 1], padding="valid", depth_multiplier=1, use_bias=False,
        activation="swish")], "dw")
    cases["separable_dm2_same"] = ([I(7, 8, 3), L("SeparableConv2D", "sep", ["input_1"],
        filters=5, kernel_size=[3, 3], strides=[1, 1], padding="same", depth_multiplier=2,
        use_bias=True, activation="relu")], "sep")
    cases["separable_s2_same_even"] = ([I(10, 10, 4), L("SeparableConv2D", "sep", ["input_1"],
        filters=6, kernel_size=[3, 3], strides=[2, 2], padding="same", depth_multiplier=1,
        use_bias=False, activation="linear")], "sep")
    cases["separable_5x5_valid"] = ([I(11, 9, 3), L("SeparableConv2D", "sep", ["input_1"],
        filters=4, kernel_size=[5, 5], strides=[1, 1], padding="valid", depth_multiplier=1,
        use_bias=True, activation="linear")], "sep")
    for name, cls, k, s, pad, hw in [
            ("maxpool3_s2_same_odd", "MaxPooling2D", 3, 2, "same", (9, 7)),
            ("maxpool3_s2_same_even", "MaxPooling2D", 3, 2, "same", (8, 8)),
            ("maxpool2_valid", "MaxPooling2D", 2, None, "valid", (7, 9)),
            ("avgpool3_s2_same_odd", "AveragePooling2D", 3, 2, "same", (9, 7)),
            ("avgpool3_s1_same", "AveragePooling2D", 3, 1, "same", (6, 5)),
            ("avgpool2_valid", "AveragePooling2D", 2, None, "valid", (7, 9))]:
        cfg = dict(pool_size=[k, k], padding=pad)
        cfg["strides"] = [s, s] if s else None
        cases[name] = ([I(hw[0], hw[1], 3), L(cls, "pool", ["input_1"], **cfg)], "pool")
    # 19 channels: the vectorised max-pool backward's blocks of 16 and the
    # scalar remainder, on Xception's 3x3 stride-2 "same" windows
    cases["maxpool3_s2_same_c19"] = ([I(9, 8, 19), L("MaxPooling2D", "pool", ["input_1"],
        pool_size=[3, 3], strides=[2, 2], padding="same")], "pool")
    cases["batchnorm_eps"] = ([I(5, 4, 6), L("BatchNormalization", "bn", ["input_1"], axis=-1,
        epsilon=0.01, center=True, scale=True)], "bn")
    cases["batchnorm_nocenter"] = ([I(5, 4, 6), L("BatchNormalization", "bn", ["input_1"],
        axis=3, epsilon=0.001, center=False, scale=True)], "bn")
    for act in ["relu", "relu6", "sigmoid", "tanh", "swish", "softmax", "linear"]:
        cases["activation_" + act] = ([I(4, 5, 6), L("Activation", "act", ["input_1"],
            activation=act)], "act")
    cases["relu_layer_max_slope"] = ([I(4, 5, 6), L("ReLU", "relu", ["input_1"], max_value=0.5,
        negative_slope=0.1, threshold=0.0)], "relu")
    cases["add3_gap_dense"] = ([I(5, 5, 4),
        L("Conv2D", "a", ["input_1"], filters=4, kernel_size=[3, 3], strides=[1, 1],
          padding="same", use_bias=False, activation="linear"),
        L("BatchNormalization", "b", ["input_1"], epsilon=0.001),
        L("Add", "add", ["a", "b", "input_1"]),
        L("GlobalAveragePooling2D", "gap", ["add"]),
        L("Dense", "dense", ["gap"], units=3, activation="softmax", use_bias=True)], "dense")
    cases["gmp_dropout_rescaling"] = ([I(6, 5, 3),
        L("Rescaling", "rescale", ["input_1"], scale=0.5, offset=-1.0),
        L("GlobalMaxPooling2D", "gmp", ["rescale"]),
        L("Dropout", "drop", ["gmp"], rate=0.5),
        L("Dense", "dense", ["drop"], units=4, activation="linear", use_bias=False)], "dense")
    cases["flatten_dense"] = ([I(3, 4, 2), L("Flatten", "flat", ["input_1"]),
        L("Dense", "dense", ["flat"], units=5, activation="tanh", use_bias=True)], "dense")
    return cases


OWN_SEED = {"maxpool3_s2_same_c19": 1919}


def make_ops():
    os.makedirs(os.path.join(DATA, "ops"), exist_ok=True)
    rng = np.random.RandomState(1234)
    for name, (layers, out) in sorted(op_cases().items()):
        # cases added later draw from their own generator: the others' data stay as they were
        r = np.random.RandomState(OWN_SEED[name]) if name in OWN_SEED else rng
        config = functional(layers, layers[-1]["name"])
        ll = kt.layer_list(config)
        weights = channels_and_weights(ll, random_weights(r))
        shape = layers[0]["config"]["batch_input_shape"][1:]
        x = r.uniform(-2, 2, [1] + shape).astype(np.float32)
        base = os.path.join(DATA, "ops", name)
        kt.write_keras(base + ".h5", config, weights)
        # read back through h5py, as any Keras file
        ll2, w2 = kt.load_keras(base + ".h5")
        y, _, _ = kt.run_model(ll2, w2, x)
        save(base + ".in.npy", x)
        save(base + ".out.npy", y)
        print("ops/%s: %s -> %s" % (name, x.shape, y.shape))

    # A Keras 2.0 Sequential config (a bare list of layers)
    seq = {"class_name": "Sequential", "config": [
        {"class_name": "Conv2D", "config": {"name": "c1", "batch_input_shape": [None, 9, 9, 2],
         "batch_shape_note": "Keras 2.0 puts the input shape on the first layer",
         "filters": 3, "kernel_size": [3, 3], "strides": [2, 2], "padding": "same",
         "activation": "relu", "use_bias": True}},
        {"class_name": "Flatten", "config": {"name": "f"}},
        {"class_name": "Dense", "config": {"name": "d", "units": 4, "activation": "softmax",
         "use_bias": True}}]}
    ll = kt.layer_list(seq)
    weights = channels_and_weights(ll, random_weights(rng))
    x = rng.uniform(-1, 1, (1, 9, 9, 2)).astype(np.float32)
    base = os.path.join(DATA, "ops", "sequential")
    kt.write_keras(base + ".h5", seq, weights)
    ll2, w2 = kt.load_keras(base + ".h5")
    y, _, _ = kt.run_model(ll2, w2, x)
    save(base + ".in.npy", x)
    save(base + ".out.npy", y)
    print("ops/sequential")


# ---------------------------------------------------------------- FER model

FER_FACES = ["face_cap", "face_left", "face_mid", "face_selfie", "face_stripes", "face_woman"]
FER_LAYERS = ["activation_1", "separable_conv2d_3", "add_2", "add_4", "conv2d_7"]
# the default CAM layer, one inside a residual block, one feeding a max-pool
FER_GRAD_LAYERS = ["add_4", "separable_conv2d_5", "batch_normalization_8"]


def make_fer():
    path = os.path.join(SHARED, "models", "fer2013_mini_XCEPTION.102-0.66.hdf5")
    if not os.path.exists(path):
        print("skipping FER goldens: %s not found" % path)
        return
    os.makedirs(os.path.join(DATA, "fer"), exist_ok=True)
    ll, w = kt.load_keras(path)
    probs = []
    for face in FER_FACES:
        img = Image.open(os.path.join(SHARED, "images", "faces", face + ".png")).convert("L")
        x = np.asarray(img, dtype=np.float32)[None, :, :, None] / np.float32(127.5) - 1
        y, kept, logits = kt.run_model(ll, w, x, keep=FER_LAYERS if face == "face_cap" else ())
        probs.append(y[0])
        for name, v in kept.items():
            save(os.path.join(DATA, "fer", "face_cap.%s.npy" % name), v)
    save(os.path.join(DATA, "fer", "probabilities.npy"), np.stack(probs))

    # explanations of face_cap's top-1 class
    img = Image.open(os.path.join(SHARED, "images", "faces", "face_cap.png")).convert("L")
    x = np.asarray(img, dtype=np.float32)[None, :, :, None] / np.float32(127.5) - 1
    r = kt.explain_goldens(ll, w, x, FER_GRAD_LAYERS, 16)
    d = os.path.join(DATA, "fer", "explain")
    os.makedirs(d, exist_ok=True)
    for n in FER_GRAD_LAYERS:
        save(os.path.join(d, "grad.%s.npy" % n), r["grad:" + n])
    for k, v in r["cams"].items():
        save(os.path.join(d, "cam.%s.npy" % k), v)
    save(os.path.join(d, "input_grad.npy"), r["input_grad"])
    save(os.path.join(d, "ig16.npy"), r["ig"])
    save(os.path.join(d, "target.npy"), np.array([r["class"], r["score"]]))
    print("fer explain: class %d logit %.4f" % (r["class"], r["score"]))
    with open(os.path.join(DATA, "fer", "faces.txt"), "w") as f:
        f.write("\n".join(FER_FACES) + "\n")
    print("fer: probabilities", np.stack(probs).shape)


# ---------------------------------------------------------------- Xception

def xception_layers(size=299, channels=3, classes=1000, width=1.0, top=True):
    """Keras Applications' xception.py, written out layer by layer in Keras' depth order
    (every filter count times width; without the top, pooling='avg')."""
    out = []
    n = {"conv": 0, "bn": 0, "add": 0}

    def add(cls, name, inb, **cfg):
        out.append((cls, name, cfg, inb))
        return name

    def conv(name, x, f, k, s, pad):
        f = max(1, int(math.floor(f * width + 0.5)))
        return add("Conv2D", name, [x], filters=f, kernel_size=[k, k], strides=[s, s],
                   padding=pad, use_bias=False, activation="linear")

    def sep(name, x, f):
        f = max(1, int(math.floor(f * width + 0.5)))
        return add("SeparableConv2D", name, [x], filters=f, kernel_size=[3, 3], strides=[1, 1],
                   padding="same", use_bias=False, activation="linear", depth_multiplier=1)

    def bn(name, x):
        return add("BatchNormalization", name, [x], epsilon=0.001)

    def relu(name, x):
        return add("Activation", name, [x], activation="relu")

    def auto(kind):
        n[kind] += 1
        return {"conv": "conv2d_%d", "bn": "batch_normalization_%d", "add": "add_%d"}[kind] % n[kind]

    def down(b, x, f1, f2, first_relu):
        y = x
        if first_relu:
            y = relu("block%d_sepconv1_act" % b, y)
        y = bn("block%d_sepconv1_bn" % b, sep("block%d_sepconv1" % b, y, f1))
        y = relu("block%d_sepconv2_act" % b, y)
        y = bn("block%d_sepconv2_bn" % b, sep("block%d_sepconv2" % b, y, f2))
        r = conv(auto("conv"), x, f2, 1, 2, "same")
        p = add("MaxPooling2D", "block%d_pool" % b, [y], pool_size=[3, 3], strides=[2, 2],
                padding="same")
        r = bn(auto("bn"), r)
        return add("Add", auto("add"), [p, r])

    x = add("InputLayer", "input_1", [], batch_input_shape=[None, size, size, channels])
    x = relu("block1_conv1_act", bn("block1_conv1_bn", conv("block1_conv1", x, 32, 3, 2, "valid")))
    x = relu("block1_conv2_act", bn("block1_conv2_bn", conv("block1_conv2", x, 64, 3, 1, "valid")))
    x = down(2, x, 128, 128, False)
    x = down(3, x, 256, 256, True)
    x = down(4, x, 728, 728, True)
    for b in range(5, 13):
        r = x
        for j in (1, 2, 3):
            x = relu("block%d_sepconv%d_act" % (b, j), x)
            x = bn("block%d_sepconv%d_bn" % (b, j), sep("block%d_sepconv%d" % (b, j), x, 728))
        x = add("Add", auto("add"), [x, r])
    x = down(13, x, 728, 1024, True)
    x = relu("block14_sepconv1_act", bn("block14_sepconv1_bn", sep("block14_sepconv1", x, 1536)))
    x = relu("block14_sepconv2_act", bn("block14_sepconv2_bn", sep("block14_sepconv2", x, 2048)))
    x = add("GlobalAveragePooling2D", "avg_pool", [x])
    if top:
        add("Dense", "predictions", [x], units=classes, activation="softmax", use_bias=True)
    return out


SEED = 20170708
INPUT_SEED = 7
SAMPLES = 4096
XC_LAYERS = ["block1_conv1_act", "block4_sepconv2_bn", "block14_sepconv2_act"]
XC_GRAD_LAYERS = ["block14_sepconv2_act", "block8_sepconv2_act", "block4_sepconv2_bn"]


def seeded_weights(seed):
    def make(cls, wname, shape, tensor):
        n = int(np.prod(shape))
        u = kt.seeded_uniform(seed, tensor, n)
        if wname.endswith("kernel"):
            fan_in = shape[0] * shape[1] if wname == "depthwise_kernel" else int(np.prod(shape[:-1]))
            span = np.float32(2.0 * math.sqrt(3.0 / fan_in))
            lo = np.float32(-span / np.float32(2))
        elif wname in ("gamma", "moving_variance"):
            lo, span = np.float32(0.8), np.float32(0.4)
        else:
            lo, span = np.float32(-0.1), np.float32(0.2)
        return (lo + span * u).astype(np.float32).reshape(shape)
    return make


def sample_indices(size):
    return (np.arange(SAMPLES, dtype=np.int64) * 2654435761 + 12345) % size


def make_xception():
    os.makedirs(os.path.join(DATA, "xception"), exist_ok=True)
    ll = xception_layers()
    wl = channels_and_weights(ll, seeded_weights(SEED))
    w = {k: [a for _, a in v] for k, v in wl.items()}
    n_params = sum(a.size for v in w.values() for a in v)
    x = (2 * kt.seeded_uniform(INPUT_SEED, 0, 299 * 299 * 3) - 1).astype(np.float32)
    x = x.reshape(1, 299, 299, 3)
    y, kept, logits = kt.run_model(ll, w, x, keep=XC_LAYERS, logits_of="predictions")
    save(os.path.join(DATA, "xception", "logits.npy"), logits)
    save(os.path.join(DATA, "xception", "probabilities.npy"), y)
    for name, v in kept.items():
        flat = v.reshape(-1)
        idx = sample_indices(flat.size)
        save(os.path.join(DATA, "xception", "%s.samples.npy" % name),
             np.stack([idx.astype(np.float32), flat[idx]]))
        stats = np.array([flat.size, flat.astype(np.float64).sum(), np.abs(flat).max()])
        save(os.path.join(DATA, "xception", "%s.stats.npy" % name), stats)
        print("xception %s %s max|x| %.3f" % (name, v.shape, stats[2]))

    # explanations of the top-1 class: default layer, middle flow, before a pool
    import torch
    r = kt.explain_goldens(ll, w, x, XC_GRAD_LAYERS, 8)
    d = os.path.join(DATA, "xception", "explain")
    os.makedirs(d, exist_ok=True)
    for name, v in [("grad." + n, r["grad:" + n]) for n in XC_GRAD_LAYERS] + \
                   [("input_grad", r["input_grad"]), ("ig8", r["ig"])]:
        flat = v.reshape(-1)
        idx = sample_indices(flat.size)
        save(os.path.join(d, "%s.samples.npy" % name),
             np.stack([idx.astype(np.float32), flat[idx]]))
    for k in ("gradcam", "gradcam++", "layercam"):
        save(os.path.join(d, "cam.%s.npy" % k), r["cams"][k])
    save(os.path.join(d, "target.npy"), np.array([r["class"], r["score"]]))
    print("xception explain: class %d logit %.4f" % (r["class"], r["score"]))
    print("xception: %d params, logits range %.3f..%.3f, top-1 %d (p=%.4f)" %
          (n_params, logits.min(), logits.max(), y.argmax(), y.max()))


# ------------------------------------------- official-layout weights-only files

def write_weights_only(path, layers, weights):
    """A weights-only file as Keras Applications publishes its ImageNet weights
    (model.save_weights of Keras 2): root attributes layer_names, backend and
    keras_version, one group per layer with weight_names and its datasets."""
    names = [name for cls, name, cfg, inb in layers]
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = np.array([n.encode() for n in names])
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.1.2"
        for n in names:
            g = f.create_group(n)
            wn = []
            for wname, arr in weights.get(n, []):
                full = "%s/%s:0" % (n, wname)
                g.create_dataset(full, data=np.asarray(arr, dtype=np.float32))
                wn.append(full.encode())
            g.attrs["weight_names"] = np.array(wn) if wn else np.zeros((0,), dtype=np.float64)


def make_weights_only():
    """Xception weights-only files, width 1/8, with the top (10 classes) and without,
    and what PyTorch computes from them on a seeded 299x299 image."""
    d = os.path.join(DATA, "weights")
    os.makedirs(d, exist_ok=True)
    x = (2 * kt.seeded_uniform(INPUT_SEED, 0, 299 * 299 * 3) - 1).astype(np.float32)
    x = x.reshape(1, 299, 299, 3)   # the engine's test makes the same input from the seed
    for top in (True, False):
        ll = xception_layers(classes=10, width=1 / 8, top=top)
        wl = channels_and_weights(ll, random_weights(np.random.RandomState(5)))
        name = "xception-w8-top" if top else "xception-w8-notop"
        write_weights_only(os.path.join(d, name + ".h5"), ll, wl)
        w = {k: [a for _, a in v] for k, v in wl.items()}
        y, _, _ = kt.run_model(ll, w, x)
        save(os.path.join(d, name + ".out.npy"), y)
        print("weights/%s: output %s, max %.4f" % (name, y.shape, y.max()))


# -------------------------------- Keras 3 .keras and tf.keras 2.x .h5 files

def keras3_tensor(name):
    return {"class_name": "__keras_tensor__",
            "config": {"shape": None, "dtype": "float32", "keras_history": [name, 0, 0]}}


def keras3_config(layers, out_name):
    """A Functional model's config.json as Keras 3 writes it (keras/src/models/functional.py,
    serialization_lib): module/registered_name, DTypePolicy objects, batch_shape, and
    inbound_nodes as calls with args of __keras_tensor__ carrying keras_history."""
    policy = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"},
              "registered_name": None}
    out = []
    for cls, name, cfg, inb in layers:
        if cls == "InputLayer":
            c = {"batch_shape": cfg["batch_input_shape"], "dtype": "float32", "sparse": False,
                 "name": name}
            out.append({"module": "keras.layers", "class_name": cls, "config": c,
                        "registered_name": None, "name": name, "inbound_nodes": []})
            continue
        c = dict(cfg, name=name, trainable=True, dtype=policy)
        if cls in ("Conv2D", "SeparableConv2D"):
            c.update(data_format="channels_last", dilation_rate=[1, 1])
        args = [[keras3_tensor(n) for n in inb]] if cls == "Add" else [keras3_tensor(inb[0])]
        out.append({"module": "keras.layers", "class_name": cls, "config": c,
                    "registered_name": None, "build_config": {"input_shape": None},
                    "name": name, "inbound_nodes": [{"args": args, "kwargs": {}}]})
    return {"module": "keras.src.models.functional", "class_name": "Functional",
            "config": {"name": "xception", "trainable": True, "layers": out,
                       "input_layers": [[layers[0][1], 0, 0]],
                       "output_layers": [[out_name, 0, 0]]},
            "registered_name": "Functional", "build_config": {"input_shape": None},
            "compile_config": None}


def write_keras3(path, layers, weights):
    """A .keras file as keras/src/saving/saving_lib.py writes it: a zip (stored) of
    metadata.json, config.json and model.weights.h5, whose variables sit at
    layers/<snake_case class>[_k]/vars/<i> in layer order (_save_container_state)."""
    import io
    import zipfile
    config = keras3_config(layers, layers[-1][1])
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        for (cls, name, cfg, inb), vars_path in zip(layers, kt.keras3_vars_paths(layers)):
            g = f.create_group(vars_path)
            for i, (wname, arr) in enumerate(weights.get(name, [])):
                g.create_dataset(str(i), data=np.asarray(arr, dtype=np.float32))
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr("metadata.json", json.dumps({"keras_version": "3.3.3",
                                                "date_saved": "2026-11-27@12:00:00"}))
        z.writestr("config.json", json.dumps(config))
        z.writestr("model.weights.h5", buf.getvalue())


def tfkeras_config(layers, out_name):
    """model_config of a tf.keras 2.x file: class_name Functional, groups in the
    convolutions, ragged/sparse flags on the input, Keras 2 inbound_nodes."""
    out = []
    for cls, name, cfg, inb in layers:
        c = dict(cfg, name=name, trainable=True, dtype="float32")
        if cls == "InputLayer":
            c.update(sparse=False, ragged=False)
        if cls in ("Conv2D", "SeparableConv2D"):
            c.update(groups=1, data_format="channels_last", dilation_rate=[1, 1])
        out.append({"class_name": cls, "config": c, "name": name,
                    "inbound_nodes": [[[n, 0, 0, {}] for n in inb]] if inb else []})
    return {"class_name": "Functional",
            "config": {"name": "xception", "layers": out,
                       "input_layers": [[layers[0][1], 0, 0]],
                       "output_layers": [[out_name, 0, 0]]},
            "keras_version": "2.13.1", "backend": "tensorflow"}


def make_keras3():
    """The same small Xception (71x71, width 1/16, 5 classes) as a Keras 3 .keras file and
    as a tf.keras 2.x .h5, and what PyTorch computes from it on a seeded input."""
    d = os.path.join(DATA, "keras3")
    os.makedirs(d, exist_ok=True)
    ll = xception_layers(size=71, classes=5, width=1 / 16)
    wl = channels_and_weights(ll, random_weights(np.random.RandomState(6)))
    write_keras3(os.path.join(d, "xception-small.keras"), ll, wl)
    kt.write_keras(os.path.join(d, "xception-small-tfkeras.h5"), tfkeras_config(ll, ll[-1][1]),
                   wl)
    with h5py.File(os.path.join(d, "xception-small-tfkeras.h5"), "a") as f:
        f.attrs["keras_version"] = b"2.13.1"
    x = (2 * kt.seeded_uniform(INPUT_SEED, 0, 71 * 71 * 3) - 1).astype(np.float32)
    w = {k: [a for _, a in v] for k, v in wl.items()}
    y, _, _ = kt.run_model(ll, w, x.reshape(1, 71, 71, 3))
    save(os.path.join(d, "xception-small.out.npy"), y)
    print("keras3: probabilities", y.shape, "max", y.max())


# ---------------------------------------------------------------- training

def make_train():
    """BatchNormalization in training mode: forward on batch statistics,
    backward through them, and Keras' moving-average update (momentum 0.99,
    i.e. PyTorch momentum 0.01, variance Bessel-corrected), by autograd."""
    d = os.path.join(DATA, "train")
    os.makedirs(d, exist_ok=True)
    rng = np.random.RandomState(7)
    layers = [L("InputLayer", "input_1", None, batch_input_shape=[None, 5, 4, 3]),
              L("BatchNormalization", "bn", ["input_1"], axis=-1, epsilon=0.001,
                momentum=0.99, center=True, scale=True)]
    config = functional(layers, "bn")
    gamma = rng.uniform(0.5, 1.5, 3).astype(np.float32)
    beta = rng.uniform(-0.5, 0.5, 3).astype(np.float32)
    mean = rng.uniform(-0.2, 0.2, 3).astype(np.float32)
    var = rng.uniform(0.8, 1.2, 3).astype(np.float32)
    kt.write_keras(os.path.join(d, "bn.h5"), config,
                   {"bn": [("gamma", gamma), ("beta", beta), ("moving_mean", mean),
                           ("moving_variance", var)]})
    x = rng.uniform(-2, 3, (4, 5, 4, 3)).astype(np.float32)
    dy = rng.uniform(-1, 1, (4, 5, 4, 3)).astype(np.float32)
    xt = torch.from_numpy(x.astype(np.float64)).permute(0, 3, 1, 2).requires_grad_(True)
    g = torch.from_numpy(gamma.astype(np.float64)).requires_grad_(True)
    b = torch.from_numpy(beta.astype(np.float64)).requires_grad_(True)
    rm = torch.from_numpy(mean.astype(np.float64)).clone()
    rv = torch.from_numpy(var.astype(np.float64)).clone()
    y = torch.nn.functional.batch_norm(xt, rm, rv, g, b, training=True, momentum=0.01, eps=0.001)
    y.backward(torch.from_numpy(dy.astype(np.float64)).permute(0, 3, 1, 2))
    save(os.path.join(d, "bn.x.npy"), x)
    save(os.path.join(d, "bn.dy.npy"), dy)
    save(os.path.join(d, "bn.y.npy"), y.detach().permute(0, 2, 3, 1).numpy())
    save(os.path.join(d, "bn.dx.npy"), xt.grad.permute(0, 2, 3, 1).numpy())
    save(os.path.join(d, "bn.dgamma_dbeta.npy"), np.stack([g.grad.numpy(), b.grad.numpy()]))
    save(os.path.join(d, "bn.moving.npy"), np.stack([rm.numpy(), rv.numpy()]))
    print("train/bn")

    # a model our engine trained and saved, read by h5py + PyTorch
    import subprocess
    cli = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build", "app",
                       "xception-cli")
    path = os.path.join(d, "engine-saved.h5")
    subprocess.run([cli, "train", "--arch", "mini-xception", "--input-size", "32",
                    "--dataset", "fashion-mnist:/usr/share/datasets/fashion-mnist",
                    "--subset", "256", "--epochs", "1", "--batch", "32", "--seed", "3",
                    "--threads", "1", "--out", path], check=True, capture_output=True)
    ll, w = kt.load_keras(path)
    xs = np.random.RandomState(11).uniform(-1, 1, (3, 32, 32, 1)).astype(np.float32)
    probs = np.concatenate([kt.run_model(ll, w, xs[i:i + 1])[0] for i in range(3)])
    save(os.path.join(d, "engine-saved.in.npy"), xs)
    save(os.path.join(d, "engine-saved.probs.npy"), probs)
    with h5py.File(path, "r") as f:
        labels = json.loads(f.attrs["xception_studio_labels"])
    assert labels[9] == "Ankle boot", labels
    print("train/engine-saved: probabilities", probs.shape)

    # the same, saved as Keras 3 .keras by our engine, read by the zip + h5py reader
    path = os.path.join(d, "engine-saved.keras")
    subprocess.run([cli, "train", "--arch", "mini-xception", "--input-size", "32",
                    "--dataset", "fashion-mnist:/usr/share/datasets/fashion-mnist",
                    "--subset", "256", "--epochs", "1", "--batch", "32", "--seed", "3",
                    "--threads", "1", "--out", path], check=True, capture_output=True)
    ll, w = kt.load_keras3(path)
    probs = np.concatenate([kt.run_model(ll, w, xs[i:i + 1])[0] for i in range(3)])
    save(os.path.join(d, "engine-saved-keras3.probs.npy"), probs)
    print("train/engine-saved.keras: probabilities", probs.shape)


if __name__ == "__main__":
    parts = sys.argv[1:] or ["ops", "fer", "xception", "weights", "keras3", "train", "medical", "localize"]
    if "ops" in parts:
        make_ops()
    if "fer" in parts:
        make_fer()
    if "xception" in parts:
        make_xception()
    if "weights" in parts:
        make_weights_only()
    if "keras3" in parts:
        make_keras3()
    if "train" in parts:
        make_train()
    if "medical" in parts:
        import make_medical
        make_medical.make_medical(DATA)
        print("medical/: DICOM, 16-bit PNG and TIFF goldens")
    if "localize" in parts:
        import make_localize
        make_localize.make_localize(DATA)
        print("localize/: shapes with boxes, metric goldens")
