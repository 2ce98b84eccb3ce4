// ONNX reader tests. Models are written by hand with a tiny protobuf writer so every field and
// every malformation is under the test's control; a torch-exported fixture checks the reader
// against the reference `onnx` package (tools/make_test_onnx.py).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "tunesmith/onnx.h"
#include "tunesmith/sha256.h"

namespace {

using tunesmith::OnnxModelInfo;
using tunesmith::OnnxTensor;
using tunesmith::parse_onnx;

// Protobuf wire-format writer: just enough to assemble ModelProto bytes.
struct Pb {
  std::vector<uint8_t> b;
  Pb& varint(uint64_t v) {
    for (; v >= 0x80; v >>= 7) b.push_back(uint8_t(v) | 0x80);
    b.push_back(uint8_t(v));
    return *this;
  }
  Pb& key(uint32_t field, int wire) { return varint(uint64_t(field) << 3 | uint64_t(wire)); }
  Pb& u(uint32_t field, uint64_t v) { return key(field, 0).varint(v); }
  Pb& fixed32(uint32_t field, uint32_t v) {
    key(field, 5);
    for (int i = 0; i < 4; ++i) b.push_back(uint8_t(v >> (8 * i)));
    return *this;
  }
  Pb& fixed64(uint32_t field, uint64_t v) {
    key(field, 1);
    for (int i = 0; i < 8; ++i) b.push_back(uint8_t(v >> (8 * i)));
    return *this;
  }
  Pb& bytes(uint32_t field, const std::vector<uint8_t>& d) {
    key(field, 2).varint(d.size());
    b.insert(b.end(), d.begin(), d.end());
    return *this;
  }
  Pb& str(uint32_t field, const std::string& s) { return bytes(field, {s.begin(), s.end()}); }
  Pb& msg(uint32_t field, const Pb& m) { return bytes(field, m.b); }
  // Unknown fields of every valid wire type (0, 1, 2, 5), which the reader must skip.
  Pb& junk() {
    return u(1000, 300).fixed64(1001, 0x0123456789abcdefull).str(1002, "ignored").fixed32(1003, 7);
  }
};

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

std::vector<uint8_t> le_floats(const std::vector<float>& v) {
  std::vector<uint8_t> out;
  for (float f : v)
    for (int i = 0; i < 4; ++i) out.push_back(uint8_t(bits(f) >> (8 * i)));
  return out;
}

Pb packed_dims(const std::vector<int64_t>& dims) {
  Pb p;
  for (int64_t d : dims) p.varint(uint64_t(d));
  return p;
}

const std::vector<float> kW = {1.0f, -2.5f, 3.25f, 0.0f, -0.0f, 1e-30f};  // "w": [2, 3]
const std::vector<float> kB = {0.5f, -1.0f, 7.0f};                       // "b": [3]

// The reference model. Opset imports precede the graph and the graph is the last field, so every
// strict prefix either lacks the graph or cuts it short.
std::vector<uint8_t> make_model(bool with_junk = true) {
  Pb w;  // raw_data, packed dims
  w.msg(1, packed_dims({2, 3})).u(2, 1).str(8, "w").bytes(9, le_floats(kW));
  Pb b;  // float_data packed, dims unpacked
  b.u(1, 3).u(2, 1).str(8, "b").bytes(4, le_floats(kB));
  Pb c;  // float_data as individual fixed32 fields, scalar (no dims)
  c.u(2, 1).str(8, "c").fixed32(4, bits(42.0f));
  Pb shape;  // INT64: type and dims kept, data ignored
  shape.u(1, 2).u(2, 7).str(8, "shape").msg(7, Pb().varint(4).varint(5));
  Pb mm, add, x, y;
  mm.str(1, "x").str(1, "w").str(2, "t").str(3, "mm0").str(4, "MatMul");
  add.str(1, "t").str(1, "b").str(2, "y").str(4, "Add").str(7, "doc");
  x.str(1, "x").msg(2, Pb().u(1, 1));  // name + a TypeProto to skip
  y.str(1, "y");
  if (with_junk)
    for (Pb* m : {&w, &b, &c, &shape, &mm, &add, &x, &y}) m->junk();

  Pb g;
  g.msg(1, mm).msg(1, add).str(2, "main").msg(5, w).msg(5, b).msg(5, c).msg(5, shape);
  if (with_junk) g.junk();
  g.msg(11, x).msg(12, y);

  Pb m;
  m.u(1, 8).str(2, "tunesmith-test").str(3, "0.1");
  if (with_junk) m.junk();
  Pb op1, op2;
  op1.str(1, "").u(2, 17);
  op2.str(1, "com.microsoft").u(2, 1);
  if (with_junk) op2.junk();
  m.msg(8, op1).msg(8, op2).msg(7, g);
  return m.b;
}

// A model whose only initializer is `tensor`.
std::vector<uint8_t> model_with_tensor(const Pb& tensor) {
  Pb g, m;
  g.msg(5, tensor);
  m.msg(8, Pb().str(1, "").u(2, 17)).msg(7, g);
  return m.b;
}

bool parse(const std::vector<uint8_t>& bytes, OnnxModelInfo& info, std::string& err) {
  return parse_onnx(bytes.data(), bytes.size(), info, err);
}

std::string parse_error(const std::vector<uint8_t>& bytes) {
  OnnxModelInfo info;
  std::string err;
  EXPECT_FALSE(parse(bytes, info, err));
  return err;
}

// Facts that must hold for any model the reader accepts, however odd.
void expect_consistent(const OnnxModelInfo& info) {
  for (const OnnxTensor& t : info.initializers) {
    ASSERT_GE(t.numel(), 0);
    ASSERT_LE(t.numel(), int64_t(1) << 28);
    if (t.data_type == 1) {
      ASSERT_EQ(int64_t(t.f32.size()), t.numel()) << t.name;
    }
  }
}

TEST(OnnxParse, HandBuiltModelAllFields) {
  OnnxModelInfo info;
  std::string err;
  ASSERT_TRUE(parse(make_model(), info, err)) << err;
  EXPECT_TRUE(err.empty());
  EXPECT_EQ(info.ir_version, 8);
  EXPECT_EQ(info.producer_name, "tunesmith-test");
  EXPECT_EQ(info.producer_version, "0.1");
  using Opset = std::pair<std::string, int64_t>;
  EXPECT_EQ(info.opset_imports, (std::vector<Opset>{{"", 17}, {"com.microsoft", 1}}));
  EXPECT_EQ(info.graph_inputs, std::vector<std::string>{"x"});
  EXPECT_EQ(info.graph_outputs, std::vector<std::string>{"y"});
  EXPECT_EQ(info.node_op_types, (std::vector<std::string>{"MatMul", "Add"}));
  ASSERT_EQ(info.initializers.size(), 4u);

  const OnnxTensor& w = info.initializers[0];
  EXPECT_EQ(w.name, "w");
  EXPECT_EQ(w.data_type, 1);
  EXPECT_EQ(w.dims, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(w.numel(), 6);
  ASSERT_EQ(w.f32.size(), kW.size());
  for (size_t i = 0; i < kW.size(); ++i) EXPECT_EQ(bits(w.f32[i]), bits(kW[i])) << i;  // keeps -0

  const OnnxTensor& b = info.initializers[1];
  EXPECT_EQ(b.name, "b");
  EXPECT_EQ(b.dims, std::vector<int64_t>{3});
  EXPECT_EQ(b.f32, kB);

  const OnnxTensor& c = info.initializers[2];
  EXPECT_EQ(c.name, "c");
  EXPECT_TRUE(c.dims.empty());
  EXPECT_EQ(c.numel(), 1);
  EXPECT_EQ(c.f32, std::vector<float>{42.0f});

  const OnnxTensor& shape = info.initializers[3];
  EXPECT_EQ(shape.name, "shape");
  EXPECT_EQ(shape.data_type, 7);
  EXPECT_EQ(shape.dims, std::vector<int64_t>{2});
  EXPECT_TRUE(shape.f32.empty());
}

TEST(OnnxParse, SkipsUnknownFields) {
  OnnxModelInfo plain, junk;
  std::string err;
  ASSERT_TRUE(parse(make_model(false), plain, err)) << err;
  ASSERT_TRUE(parse(make_model(true), junk, err)) << err;
  EXPECT_GT(make_model(true).size(), make_model(false).size());
  EXPECT_EQ(plain.opset_imports, junk.opset_imports);
  EXPECT_EQ(plain.node_op_types, junk.node_op_types);
  EXPECT_EQ(plain.graph_inputs, junk.graph_inputs);
  EXPECT_EQ(plain.graph_outputs, junk.graph_outputs);
  ASSERT_EQ(plain.initializers.size(), junk.initializers.size());
  for (size_t i = 0; i < plain.initializers.size(); ++i) {
    EXPECT_EQ(plain.initializers[i].name, junk.initializers[i].name);
    EXPECT_EQ(plain.initializers[i].dims, junk.initializers[i].dims);
    EXPECT_EQ(plain.initializers[i].f32, junk.initializers[i].f32);
  }
}

TEST(OnnxParse, EveryTruncationFails) {
  const std::vector<uint8_t> model = make_model();
  for (size_t n = 0; n < model.size(); ++n) {
    // A fresh heap copy of exactly n bytes, so a sanitizer catches any read past the prefix.
    std::vector<uint8_t> prefix(model.begin(), model.begin() + long(n));
    OnnxModelInfo info;
    std::string err;
    EXPECT_FALSE(parse(prefix, info, err)) << "prefix of " << n << " bytes";
    EXPECT_EQ(err.rfind("onnx: ", 0), 0u) << n << ": " << err;
    EXPECT_TRUE(info.initializers.empty() && info.node_op_types.empty()) << "cleared on failure";
  }
}

TEST(OnnxParse, RandomMutationsNeverCrash) {
  const std::vector<uint8_t> model = make_model();
  std::mt19937 rng(20240611);
  int accepted = 0;
  for (int iter = 0; iter < 2000; ++iter) {
    std::vector<uint8_t> m = model;
    int flips = 1 + int(rng() % 4);
    for (int k = 0; k < flips; ++k) m[rng() % m.size()] = uint8_t(rng());
    OnnxModelInfo info;
    std::string err;
    if (parse(m, info, err)) {
      ++accepted;
      expect_consistent(info);
    } else {
      EXPECT_EQ(err.rfind("onnx: ", 0), 0u) << err;
    }
  }
  // Many single-byte changes land in names or float payloads and stay valid; many do not.
  EXPECT_GT(accepted, 0);
  EXPECT_LT(accepted, 2000);
}

TEST(OnnxParse, RejectsExternalData) {
  Pb loc;  // data_location = EXTERNAL
  loc.u(1, 4).u(2, 1).str(8, "x").u(14, 1);
  EXPECT_EQ(parse_error(model_with_tensor(loc)),
            "onnx: tensor 'x' uses external data, which is not supported");
  Pb ext;  // external_data entries only
  ext.u(1, 4).u(2, 1).str(8, "x").msg(13, Pb().str(1, "location").str(2, "weights.bin"));
  EXPECT_EQ(parse_error(model_with_tensor(ext)),
            "onnx: tensor 'x' uses external data, which is not supported");
}

TEST(OnnxParse, RejectsWrongPayloadSize) {
  Pb raw;
  raw.msg(1, packed_dims({32, 32})).u(2, 1).str(8, "h.0.qkv_w").bytes(9, std::vector<uint8_t>(100));
  EXPECT_EQ(parse_error(model_with_tensor(raw)),
            "onnx: tensor 'h.0.qkv_w': raw_data has 100 bytes, expected 4096");
  Pb fd;
  fd.u(1, 3).u(2, 1).str(8, "b").fixed32(4, 0).fixed32(4, 0);
  EXPECT_EQ(parse_error(model_with_tensor(fd)), "onnx: tensor 'b': float_data has 2 values, expected 3");
  Pb none;  // a FLOAT tensor with no data at all
  none.u(1, 3).u(2, 1).str(8, "e");
  EXPECT_EQ(parse_error(model_with_tensor(none)), "onnx: tensor 'e': float_data has 0 values, expected 3");
  Pb odd;
  odd.u(1, 1).u(2, 1).bytes(4, {1, 2, 3}).str(8, "o");  // name after the data, as exporters write it
  EXPECT_EQ(parse_error(model_with_tensor(odd)), "onnx: tensor 'o': packed float_data is not a multiple of 4 bytes");
  Pb both;
  both.u(1, 1).u(2, 1).str(8, "d").fixed32(4, 0).bytes(9, {0, 0, 0, 0});
  EXPECT_EQ(parse_error(model_with_tensor(both)), "onnx: tensor 'd' has both raw_data and float_data");
}

TEST(OnnxParse, RejectsBadDims) {
  Pb overflow;  // 2^40 * 2^40 overflows int64
  overflow.msg(1, packed_dims({int64_t(1) << 40, int64_t(1) << 40})).u(2, 1).str(8, "big");
  EXPECT_EQ(parse_error(model_with_tensor(overflow)), "onnx: tensor 'big': element count overflows int64");
  Pb huge;  // fits int64 but exceeds the 2^28 element cap
  huge.msg(1, packed_dims({int64_t(1) << 20, 512})).u(2, 7).str(8, "huge");
  EXPECT_NE(parse_error(model_with_tensor(huge)).find("exceeds the limit"), std::string::npos);
  Pb neg;
  neg.u(1, 2).u(1, uint64_t(int64_t(-3))).u(2, 1).str(8, "neg");
  EXPECT_EQ(parse_error(model_with_tensor(neg)), "onnx: tensor 'neg': dimension 1 is negative (-3)");

  OnnxTensor t;
  t.dims = {int64_t(1) << 62, 4};
  EXPECT_EQ(t.numel(), -1);
  t.dims = {3, 0, int64_t(1) << 62};
  EXPECT_EQ(t.numel(), 0);
}

TEST(OnnxParse, RejectsMalformedWire) {
  EXPECT_EQ(parse_error({0x08, 0x80, 0x80}), "onnx: truncated varint at offset 1");
  EXPECT_EQ(parse_error({0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}),
            "onnx: varint longer than 10 bytes at offset 1");
  EXPECT_EQ(parse_error({0x00, 0x01}), "onnx: invalid field number 0 at offset 0");
  // Unknown field 20 (key bytes a3 01 / a6 01 / a1 01) with wire type 3, 6 and 1.
  EXPECT_EQ(parse_error({0xa3, 0x01}), "onnx: field 20 at offset 0 uses group encoding, which is not supported");
  EXPECT_EQ(parse_error({0xa6, 0x01}), "onnx: invalid wire type 6 at offset 0");
  EXPECT_EQ(parse_error({0xa1, 0x01, 1, 2, 3}), "onnx: truncated fixed64 at offset 2");
  EXPECT_EQ(parse_error({0x09, 1, 2, 3}), "onnx: field 'ir_version' at offset 0 has wire type 1, expected 0");
  // A length prefix near 2^64 must not wrap a pointer or size computation.
  EXPECT_EQ(parse_error({0x3a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00}),
            "onnx: field at offset 0 claims 18446744073709551615 bytes but only 1 remain");
  EXPECT_EQ(parse_error({}), "onnx: model has no graph");
  EXPECT_EQ(parse_error({0x3a, 0x00}), "onnx: model has no opset_import");

  OnnxModelInfo info;
  std::string err;
  EXPECT_FALSE(parse_onnx(nullptr, 0, info, err));
  EXPECT_EQ(err, "onnx: model has no graph");
}

TEST(OnnxParse, DeepNestingIsSkippedWithoutRecursion) {
  // 20000 unknown length-delimited fields nested in each other inside a NodeProto: the reader
  // skips the outermost as one blob, so depth costs no stack.
  std::vector<uint8_t> node_bytes;
  {
    // Build inside-out in one buffer, back to front, to stay linear in size.
    std::vector<uint8_t> rev;  // reversed bytes
    for (int depth = 0; depth < 20000; ++depth) {
      Pb len;
      len.key(99, 2).varint(rev.size());
      rev.insert(rev.end(), len.b.rbegin(), len.b.rend());
    }
    node_bytes.assign(rev.rbegin(), rev.rend());
  }
  Pb node;
  node.b = node_bytes;
  node.str(4, "Relu");
  Pb g, m;
  g.msg(1, node);
  m.msg(8, Pb().str(1, "").u(2, 17)).msg(7, g);
  OnnxModelInfo info;
  std::string err;
  ASSERT_TRUE(parse(m.b, info, err)) << err;
  EXPECT_EQ(info.node_op_types, std::vector<std::string>{"Relu"});
}

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

TEST(OnnxFixture, TorchExportMatchesOnnxPackage) {
  const std::string dir = std::string(TS_SOURCE_DIR) + "/tests/fixtures/";
  const std::vector<uint8_t> bytes = read_file(dir + "tiny.onnx");
  ASSERT_FALSE(bytes.empty()) << "missing " << dir << "tiny.onnx (tools/make_test_onnx.py)";
  std::ifstream jf(dir + "tiny.expected.json");
  ASSERT_TRUE(jf) << "missing tiny.expected.json";
  const nlohmann::json ex = nlohmann::json::parse(jf);

  EXPECT_EQ(tunesmith::sha256_hex(bytes.data(), bytes.size()), ex["sha256"].get<std::string>());
  OnnxModelInfo info;
  std::string err;
  ASSERT_TRUE(parse(bytes, info, err)) << err;
  EXPECT_EQ(info.ir_version, ex["ir_version"].get<int64_t>());
  EXPECT_EQ(info.producer_name, ex["producer_name"].get<std::string>());
  EXPECT_EQ(info.producer_version, ex["producer_version"].get<std::string>());
  EXPECT_EQ(info.opset_imports, (ex["opset_imports"].get<std::vector<std::pair<std::string, int64_t>>>()));
  EXPECT_EQ(info.graph_inputs, ex["graph_inputs"].get<std::vector<std::string>>());
  EXPECT_EQ(info.graph_outputs, ex["graph_outputs"].get<std::vector<std::string>>());
  EXPECT_EQ(info.node_op_types, ex["node_op_types"].get<std::vector<std::string>>());
  ASSERT_EQ(info.initializers.size(), ex["initializers"].size());
  for (size_t i = 0; i < info.initializers.size(); ++i) {
    const OnnxTensor& t = info.initializers[i];
    const nlohmann::json& e = ex["initializers"][i];
    EXPECT_EQ(t.name, e["name"].get<std::string>());
    EXPECT_EQ(t.data_type, e["data_type"].get<int32_t>());
    EXPECT_EQ(t.dims, e["dims"].get<std::vector<int64_t>>());
    const std::vector<double> values = e["values"].get<std::vector<double>>();
    ASSERT_EQ(t.f32.size(), values.size()) << t.name;
    for (size_t k = 0; k < values.size(); ++k)
      EXPECT_EQ(t.f32[k], float(values[k])) << t.name << "[" << k << "]";
  }
  for (size_t n = 0; n < bytes.size(); ++n) {
    std::vector<uint8_t> prefix(bytes.begin(), bytes.begin() + long(n));
    EXPECT_FALSE(parse(prefix, info, err)) << "prefix of " << n << " bytes";
  }
}

// Stored weights: DequantizeLinear (int8 / uint8 with per-axis or per-tensor scales, optional zero
// point) and Cast (float16 -> float) over initializers become float initializers named after their
// outputs, with ONNX Runtime's arithmetic; other nodes of those kinds are left to the graph.
std::vector<uint8_t> model_with(const std::vector<Pb>& tensors, const std::vector<Pb>& nodes) {
  Pb g, m;
  for (const Pb& n : nodes) g.msg(1, n);
  for (const Pb& t : tensors) g.msg(5, t);
  m.msg(8, Pb().str(1, "").u(2, 17)).msg(7, g);
  return m.b;
}
Pb raw_tensor(const std::string& name, int type, const std::vector<int64_t>& dims, const std::vector<uint8_t>& raw) {
  Pb t;
  t.msg(1, packed_dims(dims)).u(2, uint64_t(type)).str(8, name).bytes(9, raw);
  return t;
}
Pb float_tensor(const std::string& name, const std::vector<int64_t>& dims, const std::vector<float>& v) {
  return raw_tensor(name, 1, dims, le_floats(v));
}
Pb node(const std::string& op, const std::vector<std::string>& in, const std::string& out, const std::string& attr = "", int64_t value = 0) {
  Pb n;
  for (const auto& i : in) n.str(1, i);
  n.str(2, out).str(4, op);
  if (!attr.empty()) n.msg(5, Pb().str(1, attr).u(3, uint64_t(value)).u(20, 2));
  return n;
}
const OnnxTensor* tensor_named(const OnnxModelInfo& info, const std::string& name) {
  for (const auto& t : info.initializers)
    if (t.name == name) return &t;
  return nullptr;
}

TEST(OnnxStoredWeights, DequantizeLinearPerAxisAndPerTensor) {
  const std::vector<uint8_t> q = {uint8_t(int8_t(-127)), 0, 5, 127, uint8_t(int8_t(-3)), 1};  // [2, 3]
  OnnxModelInfo info;
  std::string err;
  // axis 1 (the default): one scale per column.
  ASSERT_TRUE(parse(model_with({raw_tensor("w.int8", 3, {2, 3}, q), float_tensor("w.scale", {3}, {0.5f, 0.25f, 2.0f})},
                               {node("DequantizeLinear", {"w.int8", "w.scale"}, "w"), node("MatMul", {"x", "w"}, "y")}), info, err)) << err;
  const OnnxTensor* w = tensor_named(info, "w");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->data_type, 1);
  EXPECT_EQ(w->dims, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(w->f32, (std::vector<float>{-63.5f, 0.0f, 10.0f, 63.5f, -0.75f, 2.0f}));
  ASSERT_EQ(info.nodes.size(), 2u);
  EXPECT_EQ(info.nodes[0].inputs, (std::vector<std::string>{"w.int8", "w.scale"}));
  EXPECT_EQ(info.nodes[1].outputs, (std::vector<std::string>{"y"}));
  EXPECT_EQ(info.node_op_types, (std::vector<std::string>{"DequantizeLinear", "MatMul"}));
  // axis 0: one scale per row, with a uint8 zero point.
  const std::vector<uint8_t> u = {0, 128, 255, 10, 20, 30};
  ASSERT_TRUE(parse(model_with({raw_tensor("e.u8", 2, {2, 3}, u), float_tensor("e.scale", {2}, {1.0f, 0.5f}), raw_tensor("e.zp", 2, {2}, {128, 20})},
                               {node("DequantizeLinear", {"e.u8", "e.scale", "e.zp"}, "e", "axis", 0)}), info, err)) << err;
  EXPECT_EQ(tensor_named(info, "e")->f32, (std::vector<float>{-128.0f, 0.0f, 127.0f, -5.0f, 0.0f, 5.0f}));
  // a scalar scale: per tensor.
  ASSERT_TRUE(parse(model_with({raw_tensor("s.int8", 3, {3}, {1, 2, uint8_t(int8_t(-4))}), float_tensor("s.scale", {}, {0.125f})},
                               {node("DequantizeLinear", {"s.int8", "s.scale"}, "s")}), info, err)) << err;
  EXPECT_EQ(tensor_named(info, "s")->f32, (std::vector<float>{0.125f, 0.25f, -0.5f}));
  // A DequantizeLinear of a graph value (not an initializer) is the graph's business.
  ASSERT_TRUE(parse(model_with({float_tensor("k.scale", {}, {1.0f})}, {node("DequantizeLinear", {"act", "k.scale"}, "k")}), info, err)) << err;
  EXPECT_EQ(tensor_named(info, "k"), nullptr);
}

TEST(OnnxStoredWeights, CastFloat16ToFloat) {
  // 1.0, -2.0, 65504 (max half), 2^-24 (smallest subnormal), -0, +inf
  const std::vector<uint16_t> h = {0x3c00, 0xc000, 0x7bff, 0x0001, 0x8000, 0x7c00};
  std::vector<uint8_t> raw;
  for (uint16_t v : h) { raw.push_back(uint8_t(v)); raw.push_back(uint8_t(v >> 8)); }
  OnnxModelInfo info;
  std::string err;
  ASSERT_TRUE(parse(model_with({raw_tensor("h.f16", 10, {6}, raw)}, {node("Cast", {"h.f16"}, "h", "to", 1)}), info, err)) << err;
  const OnnxTensor* t = tensor_named(info, "h");
  ASSERT_NE(t, nullptr);
  ASSERT_EQ(t->f32.size(), 6u);
  EXPECT_EQ(t->f32[0], 1.0f);
  EXPECT_EQ(t->f32[1], -2.0f);
  EXPECT_EQ(t->f32[2], 65504.0f);
  EXPECT_EQ(t->f32[3], std::ldexp(1.0f, -24));
  EXPECT_EQ(bits(t->f32[4]), 0x80000000u);
  EXPECT_TRUE(std::isinf(t->f32[5]));
}

TEST(OnnxStoredWeights, MalformedOnesFail) {
  const std::vector<uint8_t> q = {1, 2, 3, 4, 5, 6};
  // scale of the wrong length for the axis
  EXPECT_NE(parse_error(model_with({raw_tensor("w.int8", 3, {2, 3}, q), float_tensor("w.scale", {2}, {1, 1})},
                                   {node("DequantizeLinear", {"w.int8", "w.scale"}, "w")})).find("scale must be"), std::string::npos);
  // axis out of range
  EXPECT_NE(parse_error(model_with({raw_tensor("w.int8", 3, {2, 3}, q), float_tensor("w.scale", {3}, {1, 1, 1})},
                                   {node("DequantizeLinear", {"w.int8", "w.scale"}, "w", "axis", 5)})).find("scale must be"), std::string::npos);
  // an output that is already an initializer
  EXPECT_NE(parse_error(model_with({raw_tensor("w.int8", 3, {2, 3}, q), float_tensor("w.scale", {3}, {1, 1, 1}), float_tensor("w", {1}, {0})},
                                   {node("DequantizeLinear", {"w.int8", "w.scale"}, "w")})).find("already exists"), std::string::npos);
  // int8 raw_data of the wrong size
  EXPECT_NE(parse_error(model_with({raw_tensor("w.int8", 3, {2, 3}, {1, 2, 3})}, {})).find("raw_data has 3 bytes, expected 6"), std::string::npos);
  // a float16 cast to something else
  EXPECT_NE(parse_error(model_with({raw_tensor("h.f16", 10, {1}, {0, 0x3c})}, {node("Cast", {"h.f16"}, "h", "to", 7)})).find("FLOAT16 -> FLOAT"), std::string::npos);
}

}  // namespace
