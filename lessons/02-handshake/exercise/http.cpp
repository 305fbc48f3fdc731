// Chapter 2: HTTP heads (RFC 6455 §4.1, §4.2.1; RFC 7230 §3).
//
// The handshake is plain HTTP/1.1, so this file only has to do two things:
// collect a head (start line, header lines, blank line) from bytes that
// arrive in pieces, without ever buffering more than the limits allow
// (§10.7: validate all input), and hand the complete head to POCO's
// HTTPRequest / HTTPResponse reader. POCO is lenient where HTTP is strict
// (it skips header lines without a colon, accepts "Host :" and junk after the
// version), so after POCO has parsed a head we check the few things it lets
// through.
#include <Poco/Exception.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>

#include <algorithm>
#include <istream>
#include <sstream>
#include <utility>

#include "wslab/handshake.hpp"

namespace wslab::handshake {

namespace {

char to_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
  return std::ranges::equal(a, b, [](char x, char y) { return to_lower(x) == to_lower(y); });
}

bool is_ows(char c) {
  return c == ' ' || c == '\t';
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

// RFC 7230 §3.2.6: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" /
// "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

std::string hex_byte(unsigned char c) {
  static constexpr char digits[] = "0123456789ABCDEF";
  return std::string("0x") + digits[c >> 4] + digits[c & 0xF];
}

// Splits a head into its lines (without "\r\n" or "\n"), skipping the blank
// lines a client may send before the start line (RFC 7230 §3.5) and stopping
// at the blank line that ends the head.
std::vector<std::string_view> head_lines(std::string_view head) {
  std::vector<std::string_view> lines;
  while (!head.empty()) {
    const std::size_t lf = head.find('\n');
    std::string_view line = head.substr(0, lf);
    head = lf == std::string_view::npos ? std::string_view{} : head.substr(lf + 1);
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (line.empty()) {
      if (lines.empty()) continue;
      break;
    }
    lines.push_back(line);
  }
  return lines;
}

bool ends_with_blank_line(std::string_view head) {
  return head == "\r\n" || head == "\n" || head.ends_with("\n\n") || head.ends_with("\n\r\n");
}

// What POCO lets through but RFC 7230 §3.2 forbids: header lines without a
// ":" (POCO drops them silently), names that are not tokens ("Host : x",
// §3.2.4: "No whitespace is allowed between the header field-name and
// colon"), and control characters in values.
MaybeViolation check_header_lines(std::span<const std::string_view> lines,
                                  const Poco::Net::MessageHeader& parsed, error id) {
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const std::string_view line = lines[i];
    if (is_ows(line.front())) continue;  // obs-fold: POCO joins it to the previous value
    if (line.find(':') == std::string_view::npos)
      return Violation(id, "header line \"" + std::string(line.substr(0, 64)) + "\" has no \":\"");
  }
  for (const auto& [name, value] : parsed) {
    if (!is_token(name)) return Violation(id, "header name \"" + name.substr(0, 64) + "\" is not a token");
    for (const char c : value) {
      const auto byte = static_cast<unsigned char>(c);
      if ((byte < 0x20 && c != '\t') || byte == 0x7F)
        return Violation(id, "header " + name + " contains control character " + hex_byte(byte));
    }
  }
  return std::nullopt;
}

// HTTP-version = "HTTP/" DIGIT "." DIGIT (RFC 7230 §2.6)
bool is_http_version(std::string_view v) {
  return v.size() == 8 && v.starts_with("HTTP/") && v[5] >= '0' && v[5] <= '9' && v[6] == '.' &&
         v[7] >= '0' && v[7] <= '9';
}

// POCO's messages keep duplicate fields, but group them: a repeated name is
// stored right after its first occurrence. Order among different names and
// among the values of one name is kept, which is all HTTP gives meaning to
// (RFC 7230 §3.2.2).
Headers copy_headers(const Poco::Net::MessageHeader& parsed) {
  Headers headers;
  for (const auto& [name, value] : parsed) headers.add(name, value);
  return headers;
}

// Runs POCO's reader over a complete head; returns the exception's message
// if it throws.
template <class Message>
std::optional<std::string> poco_read(std::string_view head, Message& message) {
  std::istringstream in{std::string(head)};
  message.setFieldLimit(0);  // HeadReader already enforced our own limit
  try {
    message.read(in);
  } catch (const Poco::Exception& e) {
    return e.displayText();
  } catch (const std::exception& e) {
    return std::string(e.what());
  }
  if (in.peek() != std::istringstream::traits_type::eof())
    return std::string("bytes after the blank line that ends the head");
  return std::nullopt;
}

}  // namespace

// --- Headers -----------------------------------------------------------------

void Headers::add(std::string name, std::string value) {
  fields_.push_back(Header{std::move(name), std::move(value)});
}

const std::string* Headers::find(std::string_view name) const {
  for (const Header& h : fields_)
    if (iequals(h.name, name)) return &h.value;
  return nullptr;
}

std::size_t Headers::count(std::string_view name) const {
  return static_cast<std::size_t>(
      std::ranges::count_if(fields_, [&](const Header& h) { return iequals(h.name, name); }));
}

bool has_token(std::string_view value, std::string_view token) {
  // #element lists (RFC 7230 §7): elements separated by "," with optional
  // whitespace; Upgrade and Connection tokens compare case-insensitively.
  while (true) {
    const std::size_t comma = value.find(',');
    if (iequals(trim_ows(value.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) return false;
    value.remove_prefix(comma + 1);
  }
}

bool is_token(std::string_view text) {
  return !text.empty() && std::ranges::all_of(text, is_tchar);
}

// --- HeadReader --------------------------------------------------------------

HeadReader::HeadReader(Limits limits, bool response) : limits_(limits), response_(response) {}

HeadReader::Status HeadReader::feed(std::string_view data, std::size_t& consumed) {
  consumed = 0;
  if (status_ != Status::need_more) return status_;
  const std::string_view what = response_ ? "response" : "request";

  for (const char c : data) {
    // §10.7: never hold more than max_header_bytes. The byte that would be
    // one too many fails the head at once; it is not consumed.
    if (head_.size() >= limits_.max_header_bytes) {
      status_ = Status::failed;
      violation_ = Violation(response_ ? error::response_too_large : error::request_too_large,
                             std::string(what) + " head is longer than the " +
                                 std::to_string(limits_.max_header_bytes) + "-byte limit");
      return status_;
    }
    head_ += c;
    ++consumed;

    if (c == '\n') {
      const bool blank = !line_has_content_;
      line_length_ = 0;
      line_has_content_ = false;
      // The blank line ends the head. Blank lines before the start line are
      // ignored (RFC 7230 §3.5); they still count towards the byte limit.
      if (blank && lines_ > 0) {
        status_ = Status::complete;
        return status_;
      }
      continue;
    }
    // A line has content once it holds anything but the "\r" of a CRLF. The
    // start line is line 1; every line after it is a header line, counted as
    // soon as its first byte arrives.
    if (!line_has_content_ && (c != '\r' || line_length_ > 0)) {
      line_has_content_ = true;
      ++lines_;
      if (lines_ - 1 > limits_.max_header_lines) {
        status_ = Status::failed;
        violation_ = Violation(response_ ? error::response_too_large : error::too_many_headers,
                               std::string(what) + " has more than " +
                                   std::to_string(limits_.max_header_lines) + " header lines");
        return status_;
      }
    }
    ++line_length_;
  }
  return status_;
}

// --- Parsing complete heads -------------------------------------------------

Result<Request> parse_request(std::string_view head) {
  const auto fail = [](std::string detail) {
    return Violation(error::bad_request_syntax, std::move(detail));
  };
  if (!ends_with_blank_line(head)) return fail("the head does not end with a blank line");

  Poco::Net::HTTPRequest poco;
  if (auto problem = poco_read(head, poco)) return fail(*problem);

  // request-line = method SP request-target SP HTTP-version (RFC 7230 §3.1.1);
  // POCO ignores anything after the version, we do not.
  const std::vector<std::string_view> lines = head_lines(head);
  const std::string expected = poco.getMethod() + " " + poco.getURI() + " " + poco.getVersion();
  if (lines.empty() || lines.front() != expected)
    return fail("request line \"" + std::string(lines.empty() ? "" : lines.front().substr(0, 100)) +
                "\" is not: method SP request-target SP HTTP-version");
  if (!is_token(poco.getMethod())) return fail("method \"" + poco.getMethod() + "\" is not a token");
  if (!is_http_version(poco.getVersion()))
    return fail("\"" + poco.getVersion() + "\" is not an HTTP version (HTTP/DIGIT.DIGIT)");
  if (auto bad = check_header_lines(lines, poco, error::bad_request_syntax)) return *bad;

  return Request{poco.getMethod(), poco.getURI(), poco.getVersion(), copy_headers(poco)};
}

Result<Response> parse_response(std::string_view head) {
  const auto fail = [](std::string detail) {
    return Violation(error::bad_response_syntax, std::move(detail));
  };
  if (!ends_with_blank_line(head)) return fail("the head does not end with a blank line");

  Poco::Net::HTTPResponse poco;
  if (auto problem = poco_read(head, poco)) return fail(*problem);

  // status-line = HTTP-version SP status-code SP reason-phrase, with
  // status-code = 3DIGIT (RFC 7230 §3.1.2). POCO accepts "-5" and "0", and
  // keeps the number in an enum that cannot hold every such value, so the
  // status is read from the status line here, not from POCO.
  const std::vector<std::string_view> lines = head_lines(head);
  const std::string_view line = lines.empty() ? std::string_view{} : lines.front();
  const std::string_view version = line.substr(0, line.find(' '));
  if (!is_http_version(version))
    return fail("\"" + std::string(version.substr(0, 100)) + "\" is not an HTTP version (HTTP/DIGIT.DIGIT)");
  const std::string_view after_version = line.substr(std::min(line.size(), version.size() + 1));
  const std::string_view status = after_version.substr(0, after_version.find(' '));
  const bool three_digits = status.size() == 3 &&
                            std::ranges::all_of(status, [](char c) { return c >= '0' && c <= '9'; }) &&
                            status[0] != '0';
  if (!three_digits)
    return fail("status line \"" + std::string(line.substr(0, 100)) + "\" has no three-digit status code");
  const int code = (status[0] - '0') * 100 + (status[1] - '0') * 10 + (status[2] - '0');
  if (auto bad = check_header_lines(lines, poco, error::bad_response_syntax)) return *bad;

  return Response{code, poco.getReason(), poco.getVersion(), copy_headers(poco)};
}

}  // namespace wslab::handshake
