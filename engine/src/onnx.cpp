// ONNX ModelProto reader over the raw protobuf wire format (no libprotobuf: the wasm build must
// stay small). Every read is bounds-checked against the enclosing message, so malformed input
// yields an error, never an out-of-bounds read. Unknown fields are skipped without recursion and
// the known messages nest only three deep (Model > Graph > Tensor/Node/ValueInfo), so nested
// "depth bombs" cannot exhaust the stack.
#include "tunesmith/onnx.h"

#include <cstring>
#include <limits>

namespace tunesmith {
namespace {

constexpr int32_t kFloat = 1;                 // TensorProto.DataType.FLOAT
constexpr int32_t kUint8 = 2, kInt8 = 3, kFloat16 = 10;
constexpr int64_t kExternal = 1;              // TensorProto.DataLocation.EXTERNAL
constexpr int64_t kMaxNumel = int64_t(1) << 28;  // 1 GiB of float32, far above any model we ship
enum Wire : int { kVarint = 0, kFixed64 = 1, kLen = 2, kFixed32 = 5 };

std::string num(uint64_t v) { return std::to_string(v); }

// Cursor over one message [p, end). Offsets in errors count from the start of the model (base).
class Reader {
 public:
  Reader(const uint8_t* base, const uint8_t* p, const uint8_t* end, std::string& err)
      : base_(base), p_(p), end_(end), err_(&err) {}

  bool more() const { return p_ < end_; }
  bool fail(const std::string& msg) { *err_ = "onnx: " + msg; return false; }

  bool varint(uint64_t& v) {
    size_t start = offset();
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {  // at most 10 bytes
      if (p_ >= end_) return fail("truncated varint at offset " + num(start));
      uint8_t b = *p_++;
      v |= uint64_t(b & 0x7f) << shift;
      if (!(b & 0x80)) return true;
    }
    return fail("varint longer than 10 bytes at offset " + num(start));
  }

  // Field key = (field number << 3) | wire type; field numbers are 1 .. 2^29-1.
  bool key(uint32_t& field, int& wire) {
    key_at_ = offset();
    uint64_t k;
    if (!varint(k)) return false;
    if ((k >> 3) == 0 || (k >> 3) > 0x1fffffff)
      return fail("invalid field number " + num(k >> 3) + " at offset " + num(key_at_));
    field = uint32_t(k >> 3);
    wire = int(k & 7);
    return true;
  }

  // Length-delimited payload; the claimed length must fit in what is left of this message.
  bool bytes(const uint8_t*& data, size_t& n) {
    uint64_t len;
    if (!varint(len)) return false;
    size_t left = size_t(end_ - p_);
    if (len > left)
      return fail("field at offset " + num(key_at_) + " claims " + num(len) + " bytes but only " +
                  num(left) + " remain");
    data = p_;
    n = size_t(len);
    p_ += n;
    return true;
  }

  // Little-endian fixed32 (n = 4) or fixed64 (n = 8).
  bool fixed(size_t n, uint64_t& v) {
    if (size_t(end_ - p_) < n) return fail("truncated fixed" + num(8 * n) + " at offset " + num(offset()));
    v = 0;
    for (size_t i = 0; i < n; ++i) v |= uint64_t(p_[i]) << (8 * i);
    p_ += n;
    return true;
  }

  bool skip(uint32_t field, int wire) {
    uint64_t v;
    const uint8_t* d;
    size_t n;
    switch (wire) {
      case kVarint: return varint(v);
      case kFixed64: return fixed(8, v);
      case kLen: return bytes(d, n);
      case kFixed32: return fixed(4, v);
      case 3: case 4:
        return fail("field " + num(field) + " at offset " + num(key_at_) +
                    " uses group encoding, which is not supported");
      default:
        return fail("invalid wire type " + num(wire) + " at offset " + num(key_at_));
    }
  }

  // Typed readers for known fields: a wrong wire type is an error, not a silent skip.
  bool expect(int wire, int want, const char* what) {
    if (wire == want) return true;
    return fail("field '" + std::string(what) + "' at offset " + num(key_at_) + " has wire type " +
                num(wire) + ", expected " + num(want));
  }
  bool int_field(int wire, const char* what, int64_t& v) {
    uint64_t u;
    if (!expect(wire, kVarint, what) || !varint(u)) return false;
    v = int64_t(u);  // protobuf int32/int64 are two's complement in a 64-bit varint
    return true;
  }
  bool string_field(int wire, const char* what, std::string& s) {
    const uint8_t* d;
    size_t n;
    if (!expect(wire, kLen, what) || !bytes(d, n)) return false;
    s.assign(reinterpret_cast<const char*>(d), n);
    return true;
  }
  bool message(int wire, const char* what, Reader& sub) {
    const uint8_t* d;
    size_t n;
    if (!expect(wire, kLen, what) || !bytes(d, n)) return false;
    sub = Reader(base_, d, d + n, *err_);
    return true;
  }

 private:
  size_t offset() const { return size_t(p_ - base_); }
  const uint8_t* base_;
  const uint8_t* p_;
  const uint8_t* end_;
  std::string* err_;
  size_t key_at_ = 0;  // offset of the key of the field being read
};

float f32_from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// Little-endian float32 at b, read byte-wise: payloads need not be 4-byte aligned in the buffer.
float le_f32(const uint8_t* b) {
  return f32_from_bits(uint32_t(b[0]) | uint32_t(b[1]) << 8 | uint32_t(b[2]) << 16 | uint32_t(b[3]) << 24);
}

bool parse_tensor(Reader r, OnnxTensor& t) {
  bool external = false, has_raw = false, ragged_floats = false;
  const uint8_t* raw = nullptr;
  size_t raw_n = 0;
  std::vector<float> floats;  // float_data values in order (bounded by the input size)
  while (r.more()) {
    uint32_t field;
    int wire;
    int64_t v;
    uint64_t u;
    if (!r.key(field, wire)) return false;
    switch (field) {
      case 1:  // dims: repeated int64, packed or one per field
        if (wire == kLen) {
          Reader packed = r;
          if (!r.message(wire, "dims", packed)) return false;
          while (packed.more()) {
            if (!packed.varint(u)) return false;
            t.dims.push_back(int64_t(u));
          }
        } else {
          if (!r.int_field(wire, "dims", v)) return false;
          t.dims.push_back(v);
        }
        break;
      case 2:
        if (!r.int_field(wire, "data_type", v)) return false;
        t.data_type = int32_t(v);
        break;
      case 4:  // float_data: packed little-endian floats or one fixed32 per field
        if (wire == kLen) {
          const uint8_t* d;
          size_t n;
          if (!r.bytes(d, n)) return false;
          ragged_floats |= n % 4 != 0;
          for (size_t i = 0; i + 4 <= n; i += 4) floats.push_back(le_f32(d + i));
        } else {
          if (!r.expect(wire, kFixed32, "float_data") || !r.fixed(4, u)) return false;
          floats.push_back(f32_from_bits(uint32_t(u)));
        }
        break;
      case 8:
        if (!r.string_field(wire, "name", t.name)) return false;
        break;
      case 9:
        if (!r.expect(wire, kLen, "raw_data") || !r.bytes(raw, raw_n)) return false;
        has_raw = true;
        break;
      case 13:  // external_data: key/value locations of data stored in another file
        external = true;
        if (!r.skip(field, wire)) return false;
        break;
      case 14:
        if (!r.int_field(wire, "data_location", v)) return false;
        if (v == kExternal) external = true;
        break;
      default:
        if (!r.skip(field, wire)) return false;
    }
  }

  // Validated after the whole message so that errors can name the tensor (name = 8 is usually
  // serialized after dims and float_data).
  const std::string who = "tensor '" + t.name + "'";
  if (external) return r.fail(who + " uses external data, which is not supported");
  if (ragged_floats) return r.fail(who + ": packed float_data is not a multiple of 4 bytes");
  for (size_t i = 0; i < t.dims.size(); ++i)
    if (t.dims[i] < 0)
      return r.fail(who + ": dimension " + num(i) + " is negative (" + std::to_string(t.dims[i]) + ")");
  int64_t n = t.numel();
  if (n < 0) return r.fail(who + ": element count overflows int64");
  if (n > kMaxNumel)
    return r.fail(who + ": " + num(uint64_t(n)) + " elements exceeds the limit of " + num(kMaxNumel));
  if (t.data_type == kInt8 || t.data_type == kUint8 || t.data_type == kFloat16) {
    if (!has_raw) return true;  // stored some other way: kept as name, type and dims (not usable as a weight)
    const size_t width = t.data_type == kFloat16 ? 2 : 1;
    if (raw_n != size_t(n) * width)
      return r.fail(who + ": raw_data has " + num(raw_n) + " bytes, expected " + num(uint64_t(n) * width));
    t.raw.assign(raw, raw + raw_n);
    return true;
  }
  if (t.data_type != kFloat) return true;
  if (has_raw && !floats.empty()) return r.fail(who + " has both raw_data and float_data");
  if (has_raw) {
    if (raw_n != size_t(n) * 4)
      return r.fail(who + ": raw_data has " + num(raw_n) + " bytes, expected " + num(uint64_t(n) * 4));
    t.f32.resize(size_t(n));
    for (size_t i = 0; i < size_t(n); ++i) t.f32[i] = le_f32(raw + 4 * i);
    return true;
  }
  if (floats.size() != size_t(n))
    return r.fail(who + ": float_data has " + num(floats.size()) + " values, expected " + num(uint64_t(n)));
  t.f32 = std::move(floats);
  return true;
}

// AttributeProto: its name and, for an INT attribute (i = field 3), the value.
bool parse_attribute(Reader r, OnnxNode& node) {
  std::string name;
  int64_t i = 0;
  bool has_i = false;
  while (r.more()) {
    uint32_t field = 0;
    int wire = 0;
    if (!r.key(field, wire)) return false;
    bool ok = field == 1   ? r.string_field(wire, "attribute name", name)
              : field == 3 ? (has_i = true, r.int_field(wire, "attribute i", i))
                           : r.skip(field, wire);
    if (!ok) return false;
  }
  if (has_i) node.int_attributes.emplace_back(std::move(name), i);
  return true;
}

// NodeProto: input (1), output (2), op_type (4), attribute (5).
bool parse_node(Reader r, OnnxNode& node) {
  while (r.more()) {
    uint32_t field = 0;
    int wire = 0;
    if (!r.key(field, wire)) return false;
    Reader sub = r;
    std::string s;
    bool ok = true;
    switch (field) {
      case 1: ok = r.string_field(wire, "node input", s); node.inputs.push_back(std::move(s)); break;
      case 2: ok = r.string_field(wire, "node output", s); node.outputs.push_back(std::move(s)); break;
      case 4: ok = r.string_field(wire, "op_type", node.op_type); break;
      case 5: ok = r.message(wire, "attribute", sub) && parse_attribute(sub, node); break;
      default: ok = r.skip(field, wire);
    }
    if (!ok) return false;
  }
  return true;
}

// Reads the single string field `want` of a small message (NodeProto.op_type, ValueInfoProto.name).
bool parse_name(Reader r, uint32_t want, const char* what, std::string& s) {
  while (r.more()) {
    uint32_t field = 0;
    int wire = 0;
    if (!r.key(field, wire)) return false;
    if (!(field == want ? r.string_field(wire, what, s) : r.skip(field, wire))) return false;
  }
  return true;
}

bool parse_graph(Reader r, OnnxModelInfo& out) {
  while (r.more()) {
    uint32_t field;
    int wire;
    if (!r.key(field, wire)) return false;
    Reader sub = r;
    std::string s;
    switch (field) {
      case 1:
        out.nodes.emplace_back();
        if (!r.message(wire, "node", sub) || !parse_node(sub, out.nodes.back())) return false;
        out.node_op_types.push_back(out.nodes.back().op_type);
        break;
      case 5:
        out.initializers.emplace_back();
        if (!r.message(wire, "initializer", sub) || !parse_tensor(sub, out.initializers.back())) return false;
        break;
      case 11:
      case 12:
        if (!r.message(wire, "value_info", sub) || !parse_name(sub, 1, "name", s)) return false;
        (field == 11 ? out.graph_inputs : out.graph_outputs).push_back(std::move(s));
        break;
      default:
        if (!r.skip(field, wire)) return false;
    }
  }
  return true;
}

bool parse_opset(Reader r, std::pair<std::string, int64_t>& opset) {
  while (r.more()) {
    uint32_t field;
    int wire;
    if (!r.key(field, wire)) return false;
    bool ok = field == 1   ? r.string_field(wire, "domain", opset.first)
              : field == 2 ? r.int_field(wire, "version", opset.second)
                           : r.skip(field, wire);
    if (!ok) return false;
  }
  return true;
}

bool parse_model(Reader r, OnnxModelInfo& out) {
  bool has_graph = false;
  while (r.more()) {
    uint32_t field;
    int wire;
    if (!r.key(field, wire)) return false;
    Reader sub = r;
    bool ok = true;
    switch (field) {
      case 1: ok = r.int_field(wire, "ir_version", out.ir_version); break;
      case 2: ok = r.string_field(wire, "producer_name", out.producer_name); break;
      case 3: ok = r.string_field(wire, "producer_version", out.producer_version); break;
      case 7:
        has_graph = true;
        ok = r.message(wire, "graph", sub) && parse_graph(sub, out);
        break;
      case 8:
        out.opset_imports.emplace_back();
        ok = r.message(wire, "opset_import", sub) && parse_opset(sub, out.opset_imports.back());
        break;
      default: ok = r.skip(field, wire);
    }
    if (!ok) return false;
  }
  // Both are required by the ONNX spec; checking them also makes any truncation that happens to
  // end on a field boundary before them fail instead of yielding a half model.
  if (!has_graph) return r.fail("model has no graph");
  if (out.opset_imports.empty()) return r.fail("model has no opset_import");
  return true;
}

float half_to_float(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff;
  uint32_t bits;
  if (exp == 0x1f) bits = sign | 0x7f800000u | (man << 13);            // inf / NaN
  else if (exp != 0) bits = sign | ((exp + 112) << 23) | (man << 13);  // normal
  else if (man == 0) bits = sign;                                      // +-0
  else {                                                               // subnormal: renormalise
    int e = -1;
    uint32_t m = man;
    do { ++e; m <<= 1; } while (!(m & 0x400));
    bits = sign | uint32_t(112 - e) << 23 | ((m & 0x3ff) << 13);
  }
  return f32_from_bits(bits);
}

int64_t attribute(const OnnxNode& n, const char* name, int64_t fallback) {
  for (const auto& a : n.int_attributes)
    if (a.first == name) return a.second;
  return fallback;
}

// The stored weights (see onnx.h): DequantizeLinear / Cast nodes over initializers become FLOAT
// initializers named after their outputs.
bool widen_stored_weights(OnnxModelInfo& out, std::string& err) {
  auto fail = [&](const std::string& m) { err = "onnx: " + m; return false; };
  auto find = [&](const std::string& name) -> const OnnxTensor* {
    for (const auto& t : out.initializers)
      if (t.name == name) return &t;
    return nullptr;
  };
  for (const OnnxNode& n : out.nodes) {
    const bool deq = n.op_type == "DequantizeLinear", cast = n.op_type == "Cast";
    if (!deq && !cast) continue;
    if (n.outputs.size() != 1 || n.inputs.empty()) continue;
    std::vector<const OnnxTensor*> in;
    for (const auto& name : n.inputs) in.push_back(name.empty() ? nullptr : find(name));
    if (!in[0] || (in[0]->raw.empty() && in[0]->numel() != 0)) continue;  // not a stored weight: the graph's business
    const OnnxTensor& x = *in[0];
    const std::string who = n.op_type + " '" + n.outputs[0] + "'";
    if (find(n.outputs[0])) return fail(who + ": an initializer of that name already exists");
    OnnxTensor y;
    y.name = n.outputs[0];
    y.data_type = kFloat;
    y.dims = x.dims;
    const size_t count = size_t(x.numel());
    y.f32.resize(count);
    if (cast) {
      if (x.data_type != kFloat16 || attribute(n, "to", 0) != kFloat) return fail(who + ": only FLOAT16 -> FLOAT casts of weights are read");
      for (size_t i = 0; i < count; ++i) y.f32[i] = half_to_float(uint16_t(x.raw[2 * i] | x.raw[2 * i + 1] << 8));
    } else {
      if (x.data_type != kInt8 && x.data_type != kUint8) return fail(who + ": x must be INT8 or UINT8");
      if (n.inputs.size() < 2 || !in[1] || in[1]->data_type != kFloat) return fail(who + ": scale must be a FLOAT initializer");
      const OnnxTensor& scale = *in[1];
      const OnnxTensor* zp = n.inputs.size() > 2 ? in[2] : nullptr;
      if (n.inputs.size() > 2 && !n.inputs[2].empty() && !zp) return fail(who + ": zero_point must be an initializer");
      if (zp && (zp->data_type != x.data_type || zp->raw.size() != size_t(zp->numel()) || zp->numel() != scale.numel()))
        return fail(who + ": zero_point must have x's type and scale's shape");
      const int64_t rank = int64_t(x.dims.size());
      int64_t axis = attribute(n, "axis", 1);
      if (axis < 0) axis += rank;
      size_t groups = 1, inner = 1;  // per tensor, or per index along axis (outer x groups x inner)
      if (scale.numel() != 1 || !scale.dims.empty()) {
        if (scale.dims.size() != 1 || axis < 0 || axis >= rank || scale.dims[0] != x.dims[size_t(axis)])
          return fail(who + ": scale must be a scalar or 1-D with x's size along axis");
        groups = size_t(scale.dims[0]);
        for (int64_t k = axis + 1; k < rank; ++k) inner *= size_t(x.dims[size_t(k)]);
      }
      const bool is_signed = x.data_type == kInt8;
      auto value = [&](const std::vector<uint8_t>& b, size_t i) { return is_signed ? int32_t(int8_t(b[i])) : int32_t(b[i]); };
      for (size_t i = 0; i < count; ++i) {
        const size_t g = groups == 1 ? 0 : (i / inner) % groups;
        const int32_t z = zp ? value(zp->raw, g) : 0;
        y.f32[i] = float(value(x.raw, i) - z) * scale.f32[g];
      }
    }
    out.initializers.push_back(std::move(y));
  }
  return true;
}

}  // namespace

int64_t OnnxTensor::numel() const {
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0 || (d > 0 && n > std::numeric_limits<int64_t>::max() / d)) return -1;
    n *= d;
  }
  return n;
}

bool parse_onnx(const uint8_t* data, size_t size, OnnxModelInfo& out, std::string& err) {
  out = OnnxModelInfo();
  err.clear();
  if (!data) size = 0;
  if (parse_model(Reader(data, data, data + size, err), out) && widen_stored_weights(out, err)) return true;
  out = OnnxModelInfo();  // no half-parsed model on failure
  return false;
}

}  // namespace tunesmith
