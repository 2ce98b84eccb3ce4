// Minimal ONNX reader: the model header, graph input/output names, node op types and the
// initializer tensors (weights). Enough to load exported weights into the native engine without
// protobuf or ONNX Runtime; the graph itself is not interpreted.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace tunesmith {

struct OnnxTensor {
  std::string name;
  int32_t data_type = 0;          // ONNX TensorProto.DataType (1 = FLOAT, 7 = INT64, 10 = FLOAT16, ...)
  std::vector<int64_t> dims;      // empty for a scalar
  std::vector<float> f32;         // filled when data_type == FLOAT (from raw_data little-endian or float_data); copy, 4-byte aligned
  std::vector<uint8_t> raw;       // the raw_data bytes of INT8 (3), UINT8 (2) and FLOAT16 (10) tensors (stored weights)
  // Product of dims (1 for a scalar); -1 if a dim is negative or the product overflows int64.
  int64_t numel() const;
};

struct OnnxNode {
  std::string op_type;
  std::vector<std::string> inputs, outputs;
  std::vector<std::pair<std::string, int64_t>> int_attributes;  // the INT attributes (e.g. axis, to)
};

struct OnnxModelInfo {
  int64_t ir_version = 0;
  std::string producer_name, producer_version;
  std::vector<std::pair<std::string, int64_t>> opset_imports;  // (domain, version); "" = ai.onnx
  std::vector<std::string> graph_inputs, graph_outputs;        // ValueInfoProto names (graph.input / graph.output)
  std::vector<std::string> node_op_types;                       // op_type of each NodeProto, in order
  std::vector<OnnxNode> nodes;                                   // the same nodes: inputs, outputs, INT attributes
  std::vector<OnnxTensor> initializers;                          // graph.initializer, then the stored weights below
};

// Parses an ONNX ModelProto from memory. Never crashes or reads out of bounds on any input
// (truncated, random bytes, huge length prefixes, wrong wire types, nested depth bombs).
// Returns false and sets err to a clear message ("onnx: truncated varint at offset 123",
// "onnx: tensor 'h.0.qkv_w': raw_data has 100 bytes, expected 4096",
// "onnx: tensor 'x' uses external data, which is not supported", ...). A model must contain a
// graph and at least one opset_import. Tensors with external data are rejected. Only FLOAT
// tensors get their values decoded (into f32); other types keep name, type and dims. On failure
// out is left empty.
//
// Stored weights: a weight may be kept smaller in the file and widened by a node whose inputs are
// all initializers; the node's output then becomes a FLOAT initializer of that name (appended to
// initializers), exactly as ONNX Runtime computes it, so the same file runs in both:
//   DequantizeLinear(x INT8|UINT8, scale FLOAT scalar or 1-D along `axis` (default 1),
//                    zero_point of x's type, optional)  ->  float((int32)x - (int32)zero_point) * scale
//   Cast(x FLOAT16, to = FLOAT)                          ->  the exact float value of each half
// (tools/lyrics/quantize.py writes lyrics models with int8 weights and per-row scales this way).
// A node of these kinds whose inputs are not all initializers is left to the graph; a malformed one
// (shapes, types, an output that already exists) fails the parse.
bool parse_onnx(const uint8_t* data, size_t size, OnnxModelInfo& out, std::string& err);

}  // namespace tunesmith
