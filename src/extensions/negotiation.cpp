// Chapter 7, part 1: negotiating permessage-deflate (RFC 7692 §5, §7.1).
//
// A client offers, for example,
//
//     Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits; server_max_window_bits=10,
//                               permessage-deflate; client_max_window_bits
//
// (two offers: "a 1 KiB window for what you send me, please; or, failing
// that, anything"), and the server answers with one response that accepts
// one of them, adjusted within what §7.1 lets it change:
//
//     Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10
//
// The tables below are the whole of §7.1.1 and §7.1.2, parameter by
// parameter, from each side.
#include "wslab/extensions.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace wslab::extensions {

namespace {

// §7.1.2.1 / §7.1.2.2: "a decimal integer value without leading zeroes
// between 8 to 15, inclusive".
std::optional<int> window_bits_of(std::string_view text) {
  if (text.size() == 1 && text[0] >= '8' && text[0] <= '9') return text[0] - '0';
  if (text.size() == 2 && text[0] == '1' && text[1] >= '0' && text[1] <= '5') return 10 + (text[1] - '0');
  return std::nullopt;
}

Violation bad_parameter(Element kind, std::string what) {
  return Violation(error::bad_deflate_parameter,
                   std::string(kind == Element::offer ? "offer" : "response") + ": " + std::move(what));
}

Violation mismatch(std::string what) { return Violation(error::deflate_response_mismatch, std::move(what)); }

std::string show(const handshake::ExtensionParam& p) {
  return p.value ? p.name + "=" + *p.value : p.name;
}

}  // namespace

Result<Parameters> parse_parameters(const handshake::Extension& element, Element kind) {
  Parameters out;
  bool seen_server_max = false;
  for (const handshake::ExtensionParam& p : element.params) {
    auto no_value = [&](bool& flag) -> MaybeViolation {
      // §7.1.1.1, §7.1.1.2: "This extension parameter has no value."
      if (flag) return bad_parameter(kind, p.name + " appears twice");
      if (p.value) return bad_parameter(kind, p.name + " takes no value, got \"" + *p.value + "\"");
      flag = true;
      return std::nullopt;
    };
    if (p.name == kServerNoContextTakeover) {
      if (auto v = no_value(out.server_no_context_takeover)) return *v;
    } else if (p.name == kClientNoContextTakeover) {
      if (auto v = no_value(out.client_no_context_takeover)) return *v;
    } else if (p.name == kServerMaxWindowBits) {
      // §7.1.2.1: always with a value, in an offer and in a response.
      if (seen_server_max) return bad_parameter(kind, p.name + " appears twice");
      seen_server_max = true;
      if (!p.value) return bad_parameter(kind, p.name + " needs a value from 8 to 15");
      out.server_max_window_bits = window_bits_of(*p.value);
      if (!out.server_max_window_bits)
        return bad_parameter(kind, show(p) + ": the value is not an integer from 8 to 15");
    } else if (p.name == kClientMaxWindowBits) {
      // §7.1.2.2: in an offer with or without a value; in a response the
      // server "MUST" give one.
      if (out.client_max_window_bits) return bad_parameter(kind, p.name + " appears twice");
      out.client_max_window_bits = true;
      if (!p.value) {
        if (kind == Element::response)
          return bad_parameter(kind, p.name + " without a value (a response must give one from 8 to 15)");
        continue;
      }
      out.client_max_window_bits_value = window_bits_of(*p.value);
      if (!out.client_max_window_bits_value)
        return bad_parameter(kind, show(p) + ": the value is not an integer from 8 to 15");
    } else {
      return bad_parameter(kind, "unknown parameter " + show(p));
    }
  }
  return out;
}

handshake::Extension to_extension(const Parameters& parameters) {
  handshake::Extension e{std::string(kPerMessageDeflate), {}};
  if (parameters.server_no_context_takeover) e.params.push_back({std::string(kServerNoContextTakeover), {}});
  if (parameters.client_no_context_takeover) e.params.push_back({std::string(kClientNoContextTakeover), {}});
  if (parameters.server_max_window_bits)
    e.params.push_back({std::string(kServerMaxWindowBits), std::to_string(*parameters.server_max_window_bits)});
  if (parameters.client_max_window_bits) {
    std::optional<std::string> value;
    if (parameters.client_max_window_bits_value) value = std::to_string(*parameters.client_max_window_bits_value);
    e.params.push_back({std::string(kClientMaxWindowBits), value});
  }
  return e;
}

void check(const Settings& settings) {
  auto bits = [](const std::optional<int>& v, std::string_view name) {
    if (v && (*v < kMinWindowBits || *v > kMaxWindowBits))
      throw std::invalid_argument("permessage-deflate: " + std::string(name) + " " + std::to_string(*v) +
                                  " is not from 8 to 15 (RFC 7692 §7.1.2)");
  };
  bits(settings.server_max_window_bits, kServerMaxWindowBits);
  bits(settings.client_max_window_bits, kClientMaxWindowBits);
  if (settings.level < 0 || settings.level > 9)
    throw std::invalid_argument("permessage-deflate: level " + std::to_string(settings.level) + " is not from 0 to 9");
  if (settings.mem_level < 1 || settings.mem_level > 9)
    throw std::invalid_argument("permessage-deflate: mem_level " + std::to_string(settings.mem_level) +
                                " is not from 1 to 9");
}

// --- Client -------------------------------------------------------------------------

handshake::Extension client_offer(const Settings& settings) {
  check(settings);
  Parameters offer;
  offer.server_no_context_takeover = settings.server_no_context_takeover;
  offer.client_no_context_takeover = settings.client_no_context_takeover;
  offer.server_max_window_bits = settings.server_max_window_bits;
  // §7.1.2.2: "By including this parameter in an extension negotiation
  // offer, a client informs the peer server that the client supports the
  // client_max_window_bits extension parameter in an extension negotiation
  // response". Costs nothing, so always.
  offer.client_max_window_bits = true;
  offer.client_max_window_bits_value = settings.client_max_window_bits;
  return to_extension(offer);
}

Result<Agreement> client_agreement(const Parameters& offer, const handshake::Extension& response) {
  auto parsed = parse_parameters(response, Element::response);
  if (!parsed) return parsed.violation();
  const Parameters& r = *parsed;
  Agreement a;

  // server_no_context_takeover (§7.1.1.1): a server accepts an offer of it
  // only by including it in the response; it may also add it unasked.
  //   offered  answered  agreed
  //   no       no        no
  //   no       yes       yes
  //   yes      no        fail
  //   yes      yes       yes
  if (offer.server_no_context_takeover && !r.server_no_context_takeover)
    return mismatch("server_no_context_takeover was offered but the response leaves it out (RFC 7692 §7.1.1.1)");
  a.server_no_context_takeover = r.server_no_context_takeover;

  // client_no_context_takeover (§7.1.1.2): offered, it is the client's
  // "hint that even if the server doesn't include" it in the response,
  // "the client is not going to use context takeover" (PMD-4).
  //   offered  answered  agreed
  //   no       no        no
  //   no       yes       yes
  //   yes      no        yes  (the client keeps its word)
  //   yes      yes       yes
  a.client_no_context_takeover = offer.client_no_context_takeover || r.client_no_context_takeover;

  // server_max_window_bits (§7.1.2.1): offered with N, the server must
  // answer with M <= N; unasked, it may still limit its own window.
  //   offered  answered  agreed
  //   -        -         15
  //   -        M         M
  //   N        -         fail
  //   N        M <= N    M
  //   N        M > N     fail
  if (offer.server_max_window_bits) {
    if (!r.server_max_window_bits)
      return mismatch("server_max_window_bits=" + std::to_string(*offer.server_max_window_bits) +
                      " was offered but the response leaves it out (RFC 7692 §7.1.2.1)");
    if (*r.server_max_window_bits > *offer.server_max_window_bits)
      return mismatch("server_max_window_bits=" + std::to_string(*r.server_max_window_bits) +
                      " in the response is larger than the " + std::to_string(*offer.server_max_window_bits) +
                      " offered (RFC 7692 §7.1.2.1)");
  }
  a.server_max_window_bits = r.server_max_window_bits.value_or(kMaxWindowBits);

  // client_max_window_bits (§7.1.2.2): the server may answer with it only
  // if the client offered it; an offered value is a promise not to use more.
  //   offered   answered  agreed
  //   -         -         15
  //   -         M         fail
  //   no value  -         15
  //   no value  M         M
  //   N         -         N
  //   N         M <= N    M
  //   N         M > N     fail
  if (!offer.client_max_window_bits) {
    if (r.client_max_window_bits)
      return mismatch("client_max_window_bits is in the response but was not offered (RFC 7692 §7.1.2.2)");
    a.client_max_window_bits = kMaxWindowBits;
  } else if (r.client_max_window_bits) {
    if (offer.client_max_window_bits_value && *r.client_max_window_bits_value > *offer.client_max_window_bits_value)
      return mismatch("client_max_window_bits=" + std::to_string(*r.client_max_window_bits_value) +
                      " in the response is larger than the " + std::to_string(*offer.client_max_window_bits_value) +
                      " offered (RFC 7692 §7.1.2.2)");
    a.client_max_window_bits = *r.client_max_window_bits_value;
  } else {
    a.client_max_window_bits = offer.client_max_window_bits_value.value_or(kMaxWindowBits);
  }
  return a;
}

// --- Server ---------------------------------------------------------------------------

std::optional<Accepted> server_accept(const Settings& settings, std::span<const handshake::Extension> offers) {
  check(settings);
  for (std::size_t i = 0; i < offers.size(); ++i) {
    if (offers[i].name != kPerMessageDeflate) continue;
    auto parsed = parse_parameters(offers[i], Element::offer);
    if (!parsed) continue;  // §7.1: "A server MUST decline an extension negotiation offer" it cannot read
    const Parameters& o = *parsed;
    Parameters r;

    // §7.1.1.1: asked for, it must be answered; the server may add it.
    r.server_no_context_takeover = o.server_no_context_takeover || settings.server_no_context_takeover;
    // §7.1.1.2: the server may ask the client not to take over; echoing the
    // client's own offer of it is harmless and makes the agreement explicit.
    r.client_no_context_takeover = o.client_no_context_takeover || settings.client_no_context_takeover;

    // §7.1.2.1: offered N, answer M <= N; the server may also limit itself.
    //   setting  offered  answered
    //   -        -        -
    //   -        M        M
    //   N        -        N
    //   N        M        min(M, N)
    if (o.server_max_window_bits && settings.server_max_window_bits)
      r.server_max_window_bits = std::min(*o.server_max_window_bits, *settings.server_max_window_bits);
    else if (o.server_max_window_bits)
      r.server_max_window_bits = o.server_max_window_bits;
    else
      r.server_max_window_bits = settings.server_max_window_bits;

    // §7.1.2.2: answered only if offered, with a value no larger than an
    // offered value. Not offered: the client keeps 15 whatever the setting
    // (the offer is still accepted; the inflater then has a 32 KiB window).
    //   setting  offered   answered
    //   -        -         -
    //   -        no value  -
    //   -        M         M (the client's own limit, made explicit)
    //   N        -         -
    //   N        no value  N
    //   N        M         min(M, N)
    if (o.client_max_window_bits) {
      std::optional<int> value = o.client_max_window_bits_value;
      if (settings.client_max_window_bits) value = std::min(value.value_or(kMaxWindowBits), *settings.client_max_window_bits);
      if (value) {
        r.client_max_window_bits = true;
        r.client_max_window_bits_value = value;
      }
    }

    Agreement a;
    a.server_no_context_takeover = r.server_no_context_takeover;
    a.client_no_context_takeover = r.client_no_context_takeover;
    a.server_max_window_bits = r.server_max_window_bits.value_or(kMaxWindowBits);
    a.client_max_window_bits = r.client_max_window_bits_value.value_or(kMaxWindowBits);
    return Accepted{to_extension(r), a, i};
  }
  return std::nullopt;
}

// --- The handshake chapter's plug ----------------------------------------------------

Negotiator::Negotiator(Settings settings) : settings_(std::move(settings)) { check(settings_); }

std::vector<handshake::Extension> Negotiator::client_offers() const { return {client_offer(settings_)}; }

MaybeViolation Negotiator::client_accept(const handshake::Extension& response) {
  // RFC 7692 §5: "A client that received a response accepting a PMCE
  // extension negotiation offer together with such an extension [one that
  // conflicts on RSV1] MUST _Fail the WebSocket Connection_." Two
  // permessage-deflate elements conflict with each other.
  if (agreement_)
    return Violation(error::rsv1_conflict, "the response accepts permessage-deflate twice: \"" +
                                               response.to_string() + "\" follows an earlier one");
  auto offer = parse_parameters(client_offer(settings_), Element::offer);
  auto agreed = client_agreement(*offer, response);
  if (!agreed) return agreed.violation();
  agreement_ = *agreed;
  return std::nullopt;
}

std::optional<handshake::Extension> Negotiator::server_accept(std::span<const handshake::Extension> offers) {
  auto accepted = extensions::server_accept(settings_, offers);
  if (!accepted) return std::nullopt;
  agreement_ = accepted->agreement;
  return accepted->response;
}

}  // namespace wslab::extensions
