#!/usr/bin/env python3
"""Writes tests/fixtures/tiny.onnx and tests/fixtures/tiny.expected.json.

The C++ ONNX reader test (tests/cpp/test_onnx.cpp) parses tiny.onnx and compares it with the
JSON, which is produced here by the reference `onnx` package, so the two readers are checked
against each other on a file written by the real exporter (torch.onnx, opset 17).

Run with a Python that has torch and onnx:  /usr/bin/python3 tools/make_test_onnx.py
"""
import hashlib
import json
import os

import onnx
import torch
from onnx import numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "tests", "fixtures")


class Tiny(torch.nn.Module):
    """y = x @ weight + bias; both parameters are used directly, so they keep their names as
    initializers (no folding or transposes)."""

    def __init__(self):
        super().__init__()
        g = torch.Generator().manual_seed(1234)
        self.weight = torch.nn.Parameter(torch.randn(4, 3, generator=g))  # [in=4, out=3]
        self.bias = torch.nn.Parameter(torch.randn(3, generator=g))       # [3]

    def forward(self, x):  # x: [batch, 4] -> [batch, 3]
        return torch.matmul(x, self.weight) + self.bias


def main():
    os.makedirs(FIXTURES, exist_ok=True)
    onnx_path = os.path.join(FIXTURES, "tiny.onnx")
    torch.onnx.export(Tiny().eval(), (torch.zeros(2, 4),), onnx_path, opset_version=17,
                      input_names=["x"], output_names=["y"], do_constant_folding=False)
    model = onnx.load(onnx_path)
    onnx.checker.check_model(model)

    g = model.graph
    inits = [{"name": t.name, "data_type": t.data_type, "dims": list(t.dims),
              # float32 -> Python float is exact, and json round-trips doubles exactly.
              "values": [float(v) for v in numpy_helper.to_array(t).reshape(-1)]}
             for t in g.initializer]
    with open(onnx_path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    expected = {
        "sha256": digest,
        "ir_version": model.ir_version,
        "producer_name": model.producer_name,
        "producer_version": model.producer_version,
        "opset_imports": [[o.domain, o.version] for o in model.opset_import],
        "graph_inputs": [v.name for v in g.input],
        "graph_outputs": [v.name for v in g.output],
        "node_op_types": [n.op_type for n in g.node],
        "initializers": inits,
    }
    with open(os.path.join(FIXTURES, "tiny.expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")
    print(f"wrote {onnx_path} ({os.path.getsize(onnx_path)} bytes), sha256 {digest}")


if __name__ == "__main__":
    main()
