// Chapter 2: the Sec-WebSocket-Extensions header (RFC 6455 §9.1).
//
//     Sec-WebSocket-Extensions = extension-list
//     extension-list  = 1#extension
//     extension       = extension-token *( ";" extension-param )
//     extension-token = registered-token
//     registered-token = token
//     extension-param = token [ "=" (token | quoted-string) ]
//
// for example
//
//     permessage-deflate; client_max_window_bits, permessage-deflate; server_max_window_bits="10"
//
// The parser below reads that grammar left to right with one cursor. Like
// every HTTP list it allows optional whitespace around "," ";" and "=". It
// is strict where the grammar is: an empty list element or a missing token
// is an error (EX-2), not something to skip.
#include <utility>

#include "wslab/handshake.hpp"

namespace wslab::handshake {

namespace {

// quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE (RFC 7230 §3.2.6)
//   qdtext      = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
//   quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
bool is_qdtext(unsigned char c) {
  return c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5B) || (c >= 0x5D && c <= 0x7E) ||
         c >= 0x80;
}
bool is_quotable(unsigned char c) {
  return c == '\t' || (c >= 0x20 && c != 0x7F);
}

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Result<std::vector<Extension>> extension_list() {
    std::vector<Extension> list;
    while (true) {
      skip_ows();
      if (at_end() || peek() == ',') {
        if (list.empty() && at_end()) return fail("the extension list is empty");
        return fail("empty list element at offset " + std::to_string(pos_));
      }
      auto ext = extension();
      if (!ext) return ext.violation();
      list.push_back(std::move(*ext));
      if (at_end()) return list;
      if (peek() != ',') return unexpected("\",\" or \";\"");
      ++pos_;
    }
  }

 private:
  // extension = extension-token *( ";" extension-param ); ends before "," or
  // at the end of the text, with trailing whitespace skipped.
  Result<Extension> extension() {
    Extension ext;
    ext.name = token();
    if (ext.name.empty()) return unexpected("an extension name (a token)");
    skip_ows();
    while (!at_end() && peek() == ';') {
      ++pos_;
      skip_ows();
      ExtensionParam param;
      param.name = token();
      if (param.name.empty()) return unexpected("a parameter name (a token) after \";\"");
      skip_ows();
      if (!at_end() && peek() == '=') {
        ++pos_;
        skip_ows();
        auto value = param_value();
        if (!value) return value.violation();
        param.value = std::move(*value);
        skip_ows();
      }
      ext.params.push_back(std::move(param));
    }
    return ext;
  }

  // token | quoted-string. §9.1: "When using the quoted-string syntax
  // variant, the value after quoted-string unescaping MUST conform to the
  // 'token' ABNF."
  Result<std::string> param_value() {
    if (at_end() || peek() != '"') {
      std::string value = token();
      if (value.empty()) return unexpected("a parameter value (a token or a quoted-string) after \"=\"");
      return value;
    }
    const std::size_t start = pos_++;
    std::string value;
    while (!at_end()) {
      const auto c = static_cast<unsigned char>(text_[pos_]);
      if (c == '"') {
        ++pos_;
        if (!is_token(value))
          return fail("quoted value \"" + value + "\" at offset " + std::to_string(start) +
                      " is not a token after unescaping");
        return value;
      }
      if (c == '\\') {
        if (pos_ + 1 == text_.size()) break;
        const auto escaped = static_cast<unsigned char>(text_[pos_ + 1]);
        if (!is_quotable(escaped)) return fail("bad escaped character at offset " + std::to_string(pos_ + 1));
        value += static_cast<char>(escaped);
        pos_ += 2;
        continue;
      }
      if (!is_qdtext(c))
        return fail("control character in the quoted-string at offset " + std::to_string(pos_));
      value += static_cast<char>(c);
      ++pos_;
    }
    return fail("quoted-string at offset " + std::to_string(start) + " has no closing '\"'");
  }

  std::string token() {
    const std::size_t start = pos_;
    while (!at_end() && is_token(text_.substr(pos_, 1))) ++pos_;  // one tchar at a time
    return std::string(text_.substr(start, pos_ - start));
  }

  void skip_ows() {
    while (!at_end() && (peek() == ' ' || peek() == '\t')) ++pos_;
  }
  bool at_end() const { return pos_ == text_.size(); }
  char peek() const { return text_[pos_]; }

  Violation fail(std::string what) const {
    std::string shown(text_.substr(0, 100));
    if (text_.size() > 100) shown += "...";
    return Violation(error::bad_extension_header, what + " in \"" + shown + "\"");
  }
  Violation unexpected(std::string_view expected) const {
    if (at_end()) return fail("expected " + std::string(expected) + " at the end");
    return fail("expected " + std::string(expected) + " at offset " + std::to_string(pos_) + ", found '" +
                std::string(1, peek()) + "'");
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

// A parameter value goes out as a token when it is one, else as a
// quoted-string with '"' and '\' escaped.
std::string format_value(const std::string& value) {
  if (is_token(value)) return value;
  std::string out = "\"";
  for (const char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

}  // namespace

Result<std::vector<Extension>> parse_extensions(std::string_view value) {
  return Parser(value).extension_list();
}

std::string Extension::to_string() const {
  std::string out = name;
  for (const ExtensionParam& p : params) {
    out += "; ";
    out += p.name;
    if (p.value) {
      out += '=';
      out += format_value(*p.value);
    }
  }
  return out;
}

std::string format_extensions(std::span<const Extension> extensions) {
  std::string out;
  for (const Extension& e : extensions) {
    if (!out.empty()) out += ", ";
    out += e.to_string();
  }
  return out;
}

}  // namespace wslab::handshake
