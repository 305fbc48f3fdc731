// Trace events <-> JSON (one object per event, one line per object), with
// POCO JSON. docs/trace-format.md describes every field.
#include <wslab/framing.hpp>
#include <wslab/trace.hpp>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>

#include <charconv>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <stdexcept>

namespace wslab::trace {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;
using connection::Direction;
using connection::ReadyState;

// --- Writing -------------------------------------------------------------------

Object::Ptr new_object(std::string_view type) {
  Object::Ptr o = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
  o->set("type", std::string(type));
  return o;
}

std::string stringify(const Object::Ptr& o) {
  std::ostringstream out;
  Poco::JSON::Stringifier::condense(o, out);
  return out.str();
}

// Text fields must be valid UTF-8 to be JSON strings; bytes travel as hex.
std::string utf8_or_escaped(std::string_view s) {
  if (framing::is_valid_utf8(s)) return std::string(s);
  std::string out;
  for (unsigned char c : s) out += c < 0x80 ? std::string(1, static_cast<char>(c)) : std::string("\xEF\xBF\xBD");
  return out;
}

void add_common(Object& o, std::uint64_t conn, Micros time) {
  o.set("conn", static_cast<Poco::UInt64>(conn));
  o.set("t", static_cast<Poco::Int64>(time));
}

std::string reference_json(const Hello& e) {
  auto o = new_object("hello");
  o->set("v", e.version);
  o->set("source", utf8_or_escaped(e.source));
  o->set("started_at", utf8_or_escaped(e.started_at));
  o->set("preview_bytes", static_cast<Poco::UInt64>(e.preview_bytes));
  return stringify(o);
}

std::string reference_json(const ConnectionOpen& e) {
  auto o = new_object("open");
  add_common(*o, e.conn, e.time);
  o->set("role", std::string(to_string(e.role)));
  o->set("peer", utf8_or_escaped(e.peer));
  o->set("resource", utf8_or_escaped(e.resource));
  if (!e.extensions.empty()) o->set("extensions", utf8_or_escaped(e.extensions));
  return stringify(o);
}

std::string reference_json(const Handshake& e) {
  auto o = new_object("handshake");
  add_common(*o, e.conn, e.time);
  o->set("dir", std::string(connection::to_string(e.direction)));
  o->set("request", e.request);
  o->set("start_line", utf8_or_escaped(e.start_line));
  Array::Ptr headers = new Array;
  for (const auto& [name, value] : e.headers) {
    Array::Ptr pair = new Array;
    pair->add(utf8_or_escaped(name));
    pair->add(utf8_or_escaped(value));
    headers->add(pair);
  }
  o->set("headers", headers);
  if (e.accept) {
    Object::Ptr a = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    a->set("key", utf8_or_escaped(e.accept->key));
    a->set("concatenated", utf8_or_escaped(e.accept->concatenated));
    a->set("sha1_hex", utf8_or_escaped(e.accept->sha1_hex));
    a->set("accept", utf8_or_escaped(e.accept->accept));
    o->set("accept", a);
  }
  return stringify(o);
}

std::string reference_json(const Frame& e) {
  auto o = new_object("frame");
  add_common(*o, e.conn, e.time);
  o->set("seq", static_cast<Poco::UInt64>(e.seq));
  o->set("dir", std::string(connection::to_string(e.direction)));
  o->set("fin", e.fin);
  o->set("rsv1", e.rsv1);
  o->set("rsv2", e.rsv2);
  o->set("rsv3", e.rsv3);
  o->set("opcode", static_cast<int>(e.opcode));
  o->set("opcode_name", std::string(framing::opcode_name(e.opcode)));
  o->set("mask", e.mask);
  o->set("payload_length", static_cast<Poco::UInt64>(e.payload_length));
  o->set("length_form", utf8_or_escaped(e.length_form));
  if (e.masking_key)
    o->set("masking_key", hex(*e.masking_key));
  else
    o->set("masking_key", Poco::Dynamic::Var());
  o->set("raw_header", hex(e.raw_header));
  o->set("preview", hex(e.preview));
  o->set("preview_masked", hex(e.preview_masked));
  if (e.compressed) o->set("compressed", true);
  if (e.uncompressed_size) {
    o->set("uncompressed_size", static_cast<Poco::UInt64>(*e.uncompressed_size));
    o->set("uncompressed_preview", hex(e.uncompressed_preview));
  }
  if (e.close_code) {
    o->set("close_code", static_cast<int>(*e.close_code));
    o->set("close_reason", utf8_or_escaped(e.close_reason));
  }
  if (e.error) {
    Object::Ptr err = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    err->set("rule", utf8_or_escaped(e.error->rule));
    err->set("checklist", utf8_or_escaped(e.error->checklist));
    err->set("section", utf8_or_escaped(e.error->section));
    err->set("close_code", static_cast<int>(e.error->close_code));
    err->set("http_status", static_cast<int>(e.error->http_status));
    err->set("message", utf8_or_escaped(e.error->message));
    o->set("error", err);
  }
  o->set("buffered_amount", static_cast<Poco::UInt64>(e.buffered_amount));
  return stringify(o);
}

std::string reference_json(const Transition& e) {
  auto o = new_object("transition");
  add_common(*o, e.conn, e.time);
  o->set("from", std::string(connection::to_string(e.from)));
  o->set("to", std::string(connection::to_string(e.to)));
  o->set("cause", utf8_or_escaped(e.cause));
  return stringify(o);
}

std::string reference_json(const ConnectionClose& e) {
  auto o = new_object("close");
  add_common(*o, e.conn, e.time);
  o->set("code", static_cast<int>(e.code));
  o->set("reason", utf8_or_escaped(e.reason));
  o->set("was_clean", e.was_clean);
  if (e.sent_code) o->set("sent_code", static_cast<int>(*e.sent_code));
  return stringify(o);
}

std::string reference_json(const Dropped& e) {
  auto o = new_object("dropped");
  o->set("t", static_cast<Poco::Int64>(e.time));
  o->set("count", static_cast<Poco::UInt64>(e.count));
  o->set("total", static_cast<Poco::UInt64>(e.total));
  return stringify(o);
}

// --- Writing, fast ----------------------------------------------------------------
//
// A traced server writes one event per frame on its event loop, so this is
// the hot path: the same objects as above, appended to one string without
// building a DOM (about 40 times faster than going through POCO's Object).
// reference_json() above stays the readable reference; tests/trace checks
// that both say the same for every kind of event.

class Writer {
 public:
  explicit Writer(std::string_view type) {
    out_.reserve(512);
    out_ += R"({"type":")";
    out_ += type;
    out_ += '"';
  }
  Writer& text(std::string_view name, std::string_view value) {
    key(name);
    string(value);
    return *this;
  }
  template <class T>
  Writer& number(std::string_view name, T value) {
    key(name);
    out_ += std::to_string(value);
    return *this;
  }
  Writer& boolean(std::string_view name, bool value) {
    key(name);
    out_ += value ? "true" : "false";
    return *this;
  }
  Writer& null(std::string_view name) {
    key(name);
    out_ += "null";
    return *this;
  }
  Writer& raw(std::string_view name, std::string_view json) {
    key(name);
    out_ += json;
    return *this;
  }
  std::string done() {
    out_ += '}';
    return std::move(out_);
  }

  // A JSON string (RFC 8259 §7): quote, backslash and control characters
  // escaped; everything else (valid UTF-8, see utf8_or_escaped) as it is.
  static void append_string(std::string& out, std::string_view s) {
    static constexpr char kHex[] = "0123456789abcdef";
    out += '"';
    for (char ch : s) {
      const auto c = static_cast<unsigned char>(ch);
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
          if (c < 0x20 || c == 0x7f) {
            out += "\\u00";
            out += kHex[c >> 4];
            out += kHex[c & 0xf];
          } else {
            out += ch;
          }
      }
    }
    out += '"';
  }

 private:
  void key(std::string_view name) {
    out_ += ",\"";
    out_ += name;
    out_ += "\":";
  }
  void string(std::string_view value) { append_string(out_, utf8_or_escaped(value)); }

  std::string out_;
};

std::string fast_json(const Hello& e) {
  return Writer("hello").number("v", e.version).text("source", e.source).text("started_at", e.started_at)
      .number("preview_bytes", e.preview_bytes).done();
}

std::string fast_json(const ConnectionOpen& e) {
  Writer w("open");
  w.number("conn", e.conn).number("t", e.time).text("role", to_string(e.role)).text("peer", e.peer)
      .text("resource", e.resource);
  if (!e.extensions.empty()) w.text("extensions", e.extensions);
  return w.done();
}

std::string fast_json(const Handshake& e) {
  std::string headers = "[";
  for (const auto& [name, value] : e.headers) {
    if (headers.size() > 1) headers += ',';
    headers += '[';
    Writer::append_string(headers, utf8_or_escaped(name));
    headers += ',';
    Writer::append_string(headers, utf8_or_escaped(value));
    headers += ']';
  }
  headers += ']';
  Writer w("handshake");
  w.number("conn", e.conn).number("t", e.time).text("dir", connection::to_string(e.direction))
      .boolean("request", e.request).text("start_line", e.start_line).raw("headers", headers);
  if (e.accept) {
    std::string a = "{\"key\":";
    Writer::append_string(a, utf8_or_escaped(e.accept->key));
    a += ",\"concatenated\":";
    Writer::append_string(a, utf8_or_escaped(e.accept->concatenated));
    a += ",\"sha1_hex\":";
    Writer::append_string(a, utf8_or_escaped(e.accept->sha1_hex));
    a += ",\"accept\":";
    Writer::append_string(a, utf8_or_escaped(e.accept->accept));
    a += '}';
    w.raw("accept", a);
  }
  return w.done();
}

std::string fast_json(const Frame& e) {
  Writer w("frame");
  w.number("conn", e.conn).number("t", e.time).number("seq", e.seq).text("dir", connection::to_string(e.direction))
      .boolean("fin", e.fin).boolean("rsv1", e.rsv1).boolean("rsv2", e.rsv2).boolean("rsv3", e.rsv3)
      .number("opcode", static_cast<int>(e.opcode)).text("opcode_name", framing::opcode_name(e.opcode))
      .boolean("mask", e.mask).number("payload_length", e.payload_length).text("length_form", e.length_form);
  if (e.masking_key) w.text("masking_key", hex(*e.masking_key));
  else w.null("masking_key");
  w.text("raw_header", hex(e.raw_header)).text("preview", hex(e.preview)).text("preview_masked", hex(e.preview_masked));
  if (e.compressed) w.boolean("compressed", true);
  if (e.uncompressed_size)
    w.number("uncompressed_size", *e.uncompressed_size).text("uncompressed_preview", hex(e.uncompressed_preview));
  if (e.close_code) w.number("close_code", static_cast<int>(*e.close_code)).text("close_reason", e.close_reason);
  if (e.error) {
    std::string err = "{\"rule\":";
    Writer::append_string(err, utf8_or_escaped(e.error->rule));
    err += ",\"checklist\":";
    Writer::append_string(err, utf8_or_escaped(e.error->checklist));
    err += ",\"section\":";
    Writer::append_string(err, utf8_or_escaped(e.error->section));
    err += ",\"close_code\":" + std::to_string(e.error->close_code);
    err += ",\"http_status\":" + std::to_string(e.error->http_status);
    err += ",\"message\":";
    Writer::append_string(err, utf8_or_escaped(e.error->message));
    err += '}';
    w.raw("error", err);
  }
  return w.number("buffered_amount", e.buffered_amount).done();
}

std::string fast_json(const Transition& e) {
  return Writer("transition").number("conn", e.conn).number("t", e.time).text("from", connection::to_string(e.from))
      .text("to", connection::to_string(e.to)).text("cause", e.cause).done();
}

std::string fast_json(const ConnectionClose& e) {
  Writer w("close");
  w.number("conn", e.conn).number("t", e.time).number("code", static_cast<int>(e.code)).text("reason", e.reason)
      .boolean("was_clean", e.was_clean);
  if (e.sent_code) w.number("sent_code", static_cast<int>(*e.sent_code));
  return w.done();
}

std::string fast_json(const Dropped& e) {
  return Writer("dropped").number("t", e.time).number("count", e.count).number("total", e.total).done();
}

// --- Reading -------------------------------------------------------------------

// Thrown inside this file only; from_json turns it into a ParseError.
struct FieldError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Reader {
 public:
  Reader(const Object& o, std::string_view type) : o_(o), type_(type) {}

  bool has(const std::string& name) const { return o_.has(name) && !o_.isNull(name); }

  Poco::Dynamic::Var get(const std::string& name) const {
    if (!o_.has(name)) fail(name, "missing");
    return o_.get(name);
  }

  std::string text(const std::string& name) const {
    const auto v = get(name);
    if (!v.isString()) fail(name, "not a string");
    return v.extract<std::string>();
  }

  bool boolean(const std::string& name) const {
    const auto v = get(name);
    if (!v.isBoolean()) fail(name, "not true or false");
    return v.extract<bool>();
  }

  // An integer in [lo, hi].
  template <class T>
  T integer(const std::string& name, T lo = std::numeric_limits<T>::min(),
            T hi = std::numeric_limits<T>::max()) const {
    const auto v = get(name);
    if (!v.isInteger()) fail(name, "not an integer");
    try {
      if (v.isSigned()) {
        const Poco::Int64 x = v.convert<Poco::Int64>();
        if (x < 0 && lo >= 0) fail(name, "out of range");
        if (x >= 0 && static_cast<Poco::UInt64>(x) > static_cast<Poco::UInt64>(hi)) fail(name, "out of range");
        if (x < 0 && x < static_cast<Poco::Int64>(lo)) fail(name, "out of range");
        return static_cast<T>(x);
      }
      const Poco::UInt64 x = v.convert<Poco::UInt64>();
      if (x > static_cast<Poco::UInt64>(hi)) fail(name, "out of range");
      if constexpr (std::is_signed_v<T>) {
        if (static_cast<Poco::Int64>(x) < static_cast<Poco::Int64>(lo)) fail(name, "out of range");
      }
      return static_cast<T>(x);
    } catch (const Poco::Exception&) {
      fail(name, "out of range");
    }
  }

  Bytes bytes(const std::string& name) const {
    auto b = parse_hex(text(name));
    if (!b) fail(name, "not hex bytes");
    return *b;
  }

  Direction direction(const std::string& name) const {
    const std::string s = text(name);
    if (s == "received") return Direction::received;
    if (s == "sent") return Direction::sent;
    fail(name, "not \"received\" or \"sent\"");
  }

  ReadyState state(const std::string& name) const {
    const std::string s = text(name);
    for (auto st : {ReadyState::CONNECTING, ReadyState::OPEN, ReadyState::CLOSING, ReadyState::CLOSED})
      if (s == connection::to_string(st)) return st;
    fail(name, "not CONNECTING, OPEN, CLOSING or CLOSED");
  }

  Object::Ptr object(const std::string& name) const {
    const auto v = get(name);
    if (v.type() != typeid(Object::Ptr)) fail(name, "not an object");
    return v.extract<Object::Ptr>();
  }

  Array::Ptr array(const std::string& name) const {
    const auto v = get(name);
    if (v.type() != typeid(Array::Ptr)) fail(name, "not an array");
    return v.extract<Array::Ptr>();
  }

  [[noreturn]] void fail(const std::string& name, std::string_view why) const {
    throw FieldError(std::string(type_) + ": field \"" + name + "\" " + std::string(why));
  }

 private:
  const Object& o_;
  std::string_view type_;
};

Event read_event(const Object& o) {
  Reader top(o, "event");
  const std::string type = top.text("type");
  const Reader r(o, type);
  static const std::set<std::string> kTypes = {"hello", "open", "handshake", "frame", "transition", "close", "dropped"};
  if (!kTypes.contains(type)) throw FieldError("unknown event type \"" + type + "\"");
  if (type == "hello") {
    Hello e;
    e.version = r.integer<int>("v");
    if (e.version != kFormatVersion)
      throw FieldError("hello: trace format version " + std::to_string(e.version) + " is not supported (this reader knows " +
                       std::to_string(kFormatVersion) + ")");
    e.source = r.text("source");
    e.started_at = r.text("started_at");
    e.preview_bytes = r.integer<std::size_t>("preview_bytes");
    return e;
  }
  if (type == "dropped") {
    return Dropped{.time = r.integer<Micros>("t"), .count = r.integer<std::uint64_t>("count"),
                   .total = r.integer<std::uint64_t>("total")};
  }
  const auto conn = r.integer<std::uint64_t>("conn");
  const auto time = r.integer<Micros>("t");
  if (type == "open") {
    ConnectionOpen e{.conn = conn, .time = time};
    const std::string role = r.text("role");
    if (role == "server") e.role = Role::server;
    else if (role == "client") e.role = Role::client;
    else r.fail("role", "not \"server\" or \"client\"");
    e.peer = r.text("peer");
    e.resource = r.text("resource");
    if (r.has("extensions")) e.extensions = r.text("extensions");
    return e;
  }
  if (type == "handshake") {
    Handshake e{.conn = conn, .time = time, .direction = r.direction("dir"), .request = r.boolean("request"),
                .start_line = r.text("start_line")};
    const auto headers = r.array("headers");
    for (std::size_t i = 0; i < headers->size(); ++i) {
      const auto pair = headers->getArray(static_cast<unsigned>(i));
      if (!pair || pair->size() != 2 || !pair->get(0).isString() || !pair->get(1).isString())
        r.fail("headers", "not a list of [name, value] pairs");
      e.headers.emplace_back(pair->get(0).extract<std::string>(), pair->get(1).extract<std::string>());
    }
    if (r.has("accept")) {
      const auto a = r.object("accept");
      const Reader ar(*a, "handshake.accept");
      e.accept = Accept{.key = ar.text("key"), .concatenated = ar.text("concatenated"),
                        .sha1_hex = ar.text("sha1_hex"), .accept = ar.text("accept")};
    }
    return e;
  }
  if (type == "frame") {
    Frame e{.conn = conn, .time = time};
    e.seq = r.integer<std::uint64_t>("seq");
    e.direction = r.direction("dir");
    e.fin = r.boolean("fin");
    e.rsv1 = r.boolean("rsv1");
    e.rsv2 = r.boolean("rsv2");
    e.rsv3 = r.boolean("rsv3");
    e.opcode = r.integer<std::uint8_t>("opcode", 0, 15);
    e.mask = r.boolean("mask");
    e.payload_length = r.integer<std::uint64_t>("payload_length");
    e.length_form = r.text("length_form");
    if (e.length_form != "7-bit" && e.length_form != "16-bit" && e.length_form != "64-bit")
      r.fail("length_form", "not \"7-bit\", \"16-bit\" or \"64-bit\"");
    if (r.has("masking_key")) {
      const Bytes key = r.bytes("masking_key");
      if (key.size() != 4) r.fail("masking_key", "not 4 bytes");
      e.masking_key = std::array<std::uint8_t, 4>{key[0], key[1], key[2], key[3]};
    }
    e.raw_header = r.bytes("raw_header");
    e.preview = r.bytes("preview");
    e.preview_masked = r.bytes("preview_masked");
    if (e.preview.size() != e.preview_masked.size()) r.fail("preview_masked", "not as long as \"preview\"");
    // permessage-deflate (RFC 7692); absent in traces of uncompressed frames.
    if (r.has("compressed")) e.compressed = r.boolean("compressed");
    if (r.has("uncompressed_size")) {
      e.uncompressed_size = r.integer<std::uint64_t>("uncompressed_size");
      e.uncompressed_preview = r.bytes("uncompressed_preview");
      if (e.uncompressed_preview.size() > *e.uncompressed_size)
        r.fail("uncompressed_preview", "longer than \"uncompressed_size\"");
    }
    if (r.has("close_code")) {
      e.close_code = r.integer<std::uint16_t>("close_code");
      e.close_reason = r.text("close_reason");
    }
    if (r.has("error")) {
      const auto err = r.object("error");
      const Reader er(*err, "frame.error");
      e.error = RuleBroken{.rule = er.text("rule"), .checklist = er.text("checklist"), .section = er.text("section"),
                           .close_code = er.integer<std::uint16_t>("close_code"),
                           .http_status = er.integer<std::uint16_t>("http_status"), .message = er.text("message")};
    }
    e.buffered_amount = r.integer<std::size_t>("buffered_amount");
    return e;
  }
  if (type == "transition") {
    return Transition{.conn = conn, .time = time, .from = r.state("from"), .to = r.state("to"),
                      .cause = r.text("cause")};
  }
  if (type == "close") {
    ConnectionClose e{.conn = conn, .time = time, .code = r.integer<std::uint16_t>("code"),
                      .reason = r.text("reason"), .was_clean = r.boolean("was_clean")};
    if (r.has("sent_code")) e.sent_code = r.integer<std::uint16_t>("sent_code");
    return e;
  }
  throw FieldError("unknown event type \"" + type + "\"");
}

}  // namespace

std::string_view type_name(const Event& event) {
  static constexpr std::string_view kNames[] = {"hello", "open", "handshake", "frame", "transition", "close", "dropped"};
  static_assert(std::size(kNames) == std::variant_size_v<Event>);
  return kNames[event.index()];
}

std::string to_json(const Event& event) {
  return std::visit([](const auto& e) { return fast_json(e); }, event);
}

std::string to_json_reference(const Event& event) {
  return std::visit([](const auto& e) { return reference_json(e); }, event);
}

std::variant<Event, ParseError> from_json(std::string_view line) {
  Object::Ptr object;
  try {
    Poco::JSON::Parser parser;
    const auto parsed = parser.parse(std::string(line));
    if (parsed.type() != typeid(Object::Ptr)) return ParseError{"not a JSON object"};
    object = parsed.extract<Object::Ptr>();
  } catch (const Poco::Exception& e) {
    return ParseError{"not JSON: " + e.message()};
  }
  try {
    return read_event(*object);
  } catch (const FieldError& e) {
    return ParseError{e.what()};
  } catch (const Poco::Exception& e) {
    return ParseError{"bad field: " + e.displayText()};
  }
}

File read_file(const std::string& path) {
  File file;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    file.error = path + ": cannot open";
    return file;
  }
  std::string line;
  std::size_t number = 0;
  bool seen_hello = false;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    auto parsed = from_json(line);
    if (auto* err = std::get_if<ParseError>(&parsed)) {
      file.error = path + ":" + std::to_string(number) + ": " + err->message;
      return file;
    }
    auto& event = std::get<Event>(parsed);
    if (!seen_hello && !std::holds_alternative<Hello>(event)) {
      file.error = path + ":" + std::to_string(number) + ": a trace starts with a \"hello\" event";
      return file;
    }
    seen_hello = true;
    file.events.push_back(std::move(event));
  }
  if (!seen_hello) file.error = path + ": empty (a trace starts with a \"hello\" event)";
  return file;
}

}  // namespace wslab::trace
