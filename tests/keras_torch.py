# SPDX-License-Identifier: MIT
#
# An independent implementation of Keras inference in PyTorch (float64), used
# only at development time to make the test goldens. It reads a Keras
# model_config and the weights with h5py and runs every layer with torch ops;
# it shares no code with the C engine. TensorFlow's "same" padding is done
# with an explicit asymmetric F.pad (extra row/column bottom/right).
import json
import re
import math

import h5py
import numpy as np
import torch
import torch.nn.functional as F

MASK64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15
MIX2 = 0xD1B54A32D192ED03


def seeded_uniform(seed, tensor, n):
    """Uniform [0, 1) floats; the same counter-based generator as the engine."""
    base = (seed * GOLDEN + tensor * MIX2) & MASK64
    with np.errstate(over="ignore"):
        z = np.uint64(base) + np.arange(n, dtype=np.uint64) * np.uint64(GOLDEN)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(40)).astype(np.float32) * np.float32(1.0 / 16777216.0)


def pair(v, default):
    if v is None:
        return default
    if isinstance(v, int):
        return (v, v)
    return tuple(v)


def same_pad(size, k, s):
    out = (size + s - 1) // s
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


def pad_nchw(x, cfg, k, s, value=0.0):
    if cfg.get("padding", "valid") != "same":
        return x
    pt, pb = same_pad(x.shape[2], k[0], s[0])
    pl, pr = same_pad(x.shape[3], k[1], s[1])
    return F.pad(x, (pl, pr, pt, pb), value=value)


def activation(name, x):
    if name in (None, "linear"):
        return x
    if name == "relu":
        return torch.relu(x)
    if name == "relu6":
        return torch.clamp(x, 0, 6)
    if name == "sigmoid":
        return torch.sigmoid(x)
    if name == "tanh":
        return torch.tanh(x)
    if name in ("swish", "silu"):
        return x * torch.sigmoid(x)
    if name == "softmax":
        return torch.softmax(x, dim=-1)
    raise ValueError(name)


def to_nchw(x):
    return x.permute(0, 3, 1, 2)


def to_nhwc(x):
    return x.permute(0, 2, 3, 1)


def run_layer(cls, cfg, inputs, w, pre_activation=False):
    """One Keras layer on NHWC float64 tensors; w: list of numpy arrays in Keras order."""
    t = [torch.from_numpy(np.asarray(a, dtype=np.float64)) for a in w]
    x = inputs[0]
    act = cfg.get("activation", "linear")
    if pre_activation:
        act = "linear"
    if cls in ("Conv2D", "DepthwiseConv2D", "SeparableConv2D"):
        k = pair(cfg["kernel_size"], None)
        s = pair(cfg.get("strides"), (1, 1))
        xc = pad_nchw(to_nchw(x), cfg, k, s)
        c = xc.shape[1]
        if cls == "Conv2D":
            y = F.conv2d(xc, t[0].permute(3, 2, 0, 1), stride=s)
            bias = t[1] if len(t) > 1 else None
        else:
            dm = cfg.get("depth_multiplier", 1)
            dk = t[0].permute(2, 3, 0, 1).reshape(c * dm, 1, k[0], k[1])
            y = F.conv2d(xc, dk, stride=s, groups=c)
            if cls == "SeparableConv2D":
                y = F.conv2d(y, t[1].permute(3, 2, 0, 1))
                bias = t[2] if len(t) > 2 else None
            else:
                bias = t[1] if len(t) > 1 else None
        y = to_nhwc(y)
        if bias is not None:
            y = y + bias
        return activation(act, y)
    if cls == "BatchNormalization":
        i = 0
        gamma = beta = None
        if cfg.get("scale", True):
            gamma = t[i]; i += 1
        if cfg.get("center", True):
            beta = t[i]; i += 1
        mean, var = t[i], t[i + 1]
        y = (x - mean) / torch.sqrt(var + cfg.get("epsilon", 1e-3))
        if gamma is not None:
            y = y * gamma
        if beta is not None:
            y = y + beta
        return y
    if cls == "Activation":
        return activation(act, x)
    if cls == "ReLU":
        y = torch.where(x >= 0, x, x * (cfg.get("negative_slope") or 0.0))
        if cfg.get("max_value") is not None:
            y = torch.clamp(y, max=cfg["max_value"])
        return y
    if cls in ("MaxPooling2D", "AveragePooling2D"):
        k = pair(cfg.get("pool_size"), (2, 2))
        s = pair(cfg.get("strides"), k)
        xc = to_nchw(x)
        if cls == "MaxPooling2D":
            y = F.max_pool2d(pad_nchw(xc, cfg, k, s, value=-math.inf), k, s)
        else:
            # TF excludes padding from the average
            ones = torch.ones_like(xc[:, :1])
            total = F.avg_pool2d(pad_nchw(xc, cfg, k, s), k, s) * (k[0] * k[1])
            count = F.avg_pool2d(pad_nchw(ones, cfg, k, s), k, s) * (k[0] * k[1])
            y = total / count
        return to_nhwc(y)
    if cls == "Add":
        y = inputs[0]
        for o in inputs[1:]:
            y = y + o
        return y
    if cls == "GlobalAveragePooling2D":
        return x.mean(dim=(1, 2))
    if cls == "GlobalMaxPooling2D":
        return x.amax(dim=(1, 2))
    if cls == "Flatten":
        return x.reshape(x.shape[0], -1)
    if cls == "Dense":
        y = x @ t[0]
        if len(t) > 1:
            y = y + t[1]
        return activation(act, y)
    if cls == "Dropout":
        return x
    if cls == "Rescaling":
        return x * cfg.get("scale", 1.0) + cfg.get("offset", 0.0)
    raise ValueError("unsupported layer " + cls)


def layer_list(config):
    """(class, name, config, inbound names) in order; Sequential is chained."""
    cls = config["class_name"]
    layers = config["config"]
    if isinstance(layers, dict):
        layers = layers["layers"]
    out = []
    prev = None
    for i, l in enumerate(layers):
        name = l.get("name", l["config"].get("name"))
        if cls == "Sequential":
            if l["class_name"] == "InputLayer":
                out.append(("InputLayer", name, l["config"], []))
                prev = name
                continue
            if prev is None:
                out.append(("InputLayer", "input_1", l["config"], []))
                prev = "input_1"
            out.append((l["class_name"], name, l["config"], [prev]))
            prev = name
        else:
            inb = [n[0] for n in l["inbound_nodes"][0]] if l["inbound_nodes"] else []
            out.append((l["class_name"], name, l["config"], inb))
    return out


def read_weights(group):
    """{layer name: [arrays in weight_names order]} from a Keras weights group."""
    res = {}
    for lname in group.attrs["layer_names"]:
        lname = lname.decode() if isinstance(lname, bytes) else lname
        g = group[lname]
        names = [n.decode() if isinstance(n, bytes) else n for n in g.attrs["weight_names"]]
        res[lname] = [np.array(g[n]) for n in names]
    return res


def run_model(layers, weights, x, keep=(), logits_of=None):
    """Runs the layers on NHWC x; returns (output, {name: output} for keep,
    pre-activation of layer logits_of)."""
    values = {}
    kept = {}
    pre = None
    out = None
    for cls, name, cfg, inb in layers:
        if cls == "InputLayer":
            y = torch.from_numpy(np.asarray(x, dtype=np.float64))
        else:
            y = run_layer(cls, cfg, [values[n] for n in inb], weights.get(name, []))
            if name == logits_of:
                pre = run_layer(cls, cfg, [values[n] for n in inb], weights.get(name, []),
                                pre_activation=True)
        values[name] = y
        if name in keep:
            kept[name] = y.numpy().astype(np.float32)
        out = y
    return out.numpy(), kept, (pre.numpy() if pre is not None else None)


def _keras3_history(node, out):
    if isinstance(node, list):
        for n in node:
            _keras3_history(n, out)
    elif isinstance(node, dict) and node.get("class_name") == "__keras_tensor__":
        out.append(node["config"]["keras_history"][0])


def snake_case(name):
    """keras.src.utils.naming.to_snake_case"""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def keras3_vars_paths(layers):
    """Each layer's variables group in a Keras 3 model.weights.h5:
    layers/<snake_case class>[_k]/vars, k counting earlier layers of the class
    (keras/src/saving/saving_lib.py _save_container_state)."""
    used = {}
    out = []
    for cls, name, cfg, inb in layers:
        sn = snake_case(cls)
        if sn in used:
            used[sn] += 1
            sn = "%s_%d" % (sn, used[sn])
        else:
            used[sn] = 0
        out.append("layers/%s/vars" % sn)
    return out


def load_keras3(path):
    """A Keras 3 .keras file read as keras/src/saving/saving_lib.py lays it out:
    config.json (inbound_nodes as calls on __keras_tensor__ args) and
    model.weights.h5 (layers/<snake_case class>[_k]/vars/<i>)."""
    import io
    import zipfile
    with zipfile.ZipFile(path) as z:
        config = json.loads(z.read("config.json"))
        weights_bytes = z.read("model.weights.h5")
    layers = []
    for l in config["config"]["layers"]:
        inb = []
        for call in l["inbound_nodes"]:
            _keras3_history(call["args"], inb)
        cfg = dict(l["config"])
        if "batch_shape" in cfg:
            cfg["batch_input_shape"] = cfg["batch_shape"]
        layers.append((l["class_name"], l["config"]["name"], cfg, inb))
    weights = {}
    with h5py.File(io.BytesIO(weights_bytes), "r") as f:
        for (cls, name, cfg, inb), vars_path in zip(layers, keras3_vars_paths(layers)):
            g = f.get(vars_path)
            if g is not None and len(g):
                weights[name] = [np.array(g[str(i)]) for i in range(len(g))]
    return layers, weights


def load_keras(path):
    f = h5py.File(path, "r")
    config = json.loads(f.attrs["model_config"])
    group = f["model_weights"] if "model_weights" in f else f
    return layer_list(config), read_weights(group)


def write_keras(path, config, weights):
    """A full-model file as Keras 2 writes it: model_config, model_weights."""
    with h5py.File(path, "w") as f:
        f.attrs["model_config"] = json.dumps(config).encode()
        f.attrs["keras_version"] = b"2.2.4"
        f.attrs["backend"] = b"tensorflow"
        mw = f.create_group("model_weights")
        layers = config["config"] if isinstance(config["config"], list) else config["config"]["layers"]
        names = [l.get("name", l["config"].get("name")) for l in layers]
        mw.attrs["layer_names"] = np.array([n.encode() for n in names])
        for n in names:
            g = mw.create_group(n)
            ws = weights.get(n, [])
            wn = []
            for wname, arr in ws:
                full = "%s/%s:0" % (n, wname)
                g.create_dataset(full, data=np.asarray(arr, dtype=np.float32))
                wn.append(full.encode())
            g.attrs["weight_names"] = np.array(wn) if wn else np.zeros((0,), dtype=np.float64)


def forward_graph(layers, weights, x):
    """Like run_model, but returns the torch tensors of every layer (autograd
    intact) and the pre-activation of the last layer, for gradient goldens."""
    values = {}
    pre = None
    last = layers[-1][1]
    for cls, name, cfg, inb in layers:
        if cls == "InputLayer":
            values[name] = x
            continue
        ins = [values[n] for n in inb]
        w = weights.get(name, [])
        values[name] = run_layer(cls, cfg, ins, w)
        if name == last:
            pre = run_layer(cls, cfg, ins, w, pre_activation=True)
    return values, pre


def logit(layers, values, pre, cls):
    """The class' pre-softmax score: the input of a final softmax Activation,
    else the pre-activation of the final layer."""
    kind, name, cfg, inb = layers[-1]
    if kind == "Activation" and cfg.get("activation") == "softmax":
        return values[inb[0]][0, cls]
    return pre[0, cls]


def cams(a, g):
    """pytorch-grad-cam's Grad-CAM, Grad-CAM++, XGrad-CAM, HiRes-CAM and
    LayerCAM from activations a and gradients g, both (h, w, C) numpy."""
    relu = lambda v: np.maximum(v, 0)
    out = {}
    out["gradcam"] = relu((a * g.mean(axis=(0, 1))).sum(-1))
    g2, g3 = g ** 2, g ** 3
    sum_a = a.sum(axis=(0, 1))
    aij = g2 / (2 * g2 + sum_a[None, None, :] * g3 + 1e-6)
    aij = np.where(g != 0, aij, 0)
    w = (relu(g) * aij).sum(axis=(0, 1))
    out["gradcam++"] = relu((a * w).sum(-1))
    w = (g * a).sum(axis=(0, 1)) / (sum_a + 1e-7)
    out["xgradcam"] = relu((a * w).sum(-1))
    out["hirescam"] = relu((g * a).sum(-1))
    out["layercam"] = relu((relu(g) * a).sum(-1))
    return out


def explain_goldens(layers, weights, x, target_layers, ig_steps):
    """Autograd: gradients of the top-1 logit w.r.t. each target layer and the
    input, the CAMs at the first target layer, and Integrated Gradients with a
    zero baseline and the midpoint rule."""
    xt = torch.from_numpy(np.asarray(x, dtype=np.float64)).requires_grad_(True)
    values, pre = forward_graph(layers, weights, xt)
    for n in target_layers:
        values[n].retain_grad()
    probs = values[layers[-1][1]].detach().numpy()[0]
    cls = int(probs.argmax())
    score = logit(layers, values, pre, cls)
    score.backward()
    res = {"class": cls, "score": float(score), "input_grad": xt.grad.numpy().astype(np.float32)}
    for n in target_layers:
        res["grad:" + n] = values[n].grad.numpy().astype(np.float32)
    a0 = values[target_layers[0]].detach().numpy()[0]
    g0 = values[target_layers[0]].grad.numpy()[0]
    res["cams"] = {k: v.astype(np.float32) for k, v in cams(a0, g0).items()}
    total = np.zeros_like(x, dtype=np.float64)
    for s in range(ig_steps):
        alpha = (s + 0.5) / ig_steps
        xi = torch.from_numpy(alpha * np.asarray(x, dtype=np.float64)).requires_grad_(True)
        v, p = forward_graph(layers, weights, xi)
        logit(layers, v, p, cls).backward()
        total += xi.grad.numpy()
    res["ig"] = (np.asarray(x, dtype=np.float64) * total / ig_steps).astype(np.float32)
    return res
