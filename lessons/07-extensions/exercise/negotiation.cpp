// Chapter 7, part 1: negotiating permessage-deflate (RFC 7692 §5, §7.1).
// EXERCISE: lessons/07-extensions. Yours to write here: parse_parameters,
// client_agreement, server_accept and Negotiator::client_accept (HINTS.md
// gives the order). Given: to_extension, check, client_offer, the error
// helpers and the rest of the Negotiator. Build and check with
//   cmake --preset learner -DWSLAB_LEARNER=extensions
//   cmake --build build/learner --target check_extensions
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
// The handshake chapter has already split the header into elements and
// parameters (handshake::Extension: a name and a list of name[=value]); a
// quoted value arrives unquoted. What the parameters mean is this chapter's.
#include "wslab/extensions.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace wslab::extensions {

namespace {

// The two errors of negotiation, with your detail text (the tests check the
// error, not the words). bad_parameter: an element that is not well formed
// (PMD-2: the server declines such an offer, a client fails on such a
// response). mismatch: a well-formed response that does not answer the offer
// as §7.1 requires (PMD-3).
[[maybe_unused]] Violation bad_parameter(Element kind, std::string what) {
  return Violation(error::bad_deflate_parameter,
                   std::string(kind == Element::offer ? "offer" : "response") + ": " + std::move(what));
}

[[maybe_unused]] Violation mismatch(std::string what) {
  return Violation(error::deflate_response_mismatch, std::move(what));
}

// "name" or "name=value", for the details.
[[maybe_unused]] std::string show(const handshake::ExtensionParam& p) {
  return p.value ? p.name + "=" + *p.value : p.name;
}

}  // namespace

Result<Parameters> parse_parameters(const handshake::Extension& element, Element kind) {
  // Exercise (step 1): §7.1 reads each of element.params by its name:
  //   server_no_context_takeover, client_no_context_takeover (§7.1.1.1,
  //     §7.1.1.2): "This extension parameter has no value";
  //   server_max_window_bits (§7.1.2.1): always with a value;
  //   client_max_window_bits (§7.1.2.2): in an offer with or without a value
  //     (client_max_window_bits = true, the value empty), in a response
  //     always with one;
  //   a window value is "a decimal integer value without leading zeroes
  //   between 8 to 15, inclusive": exactly "8" .. "15", nothing else.
  // bad_parameter(kind, ...) for an unknown name, a parameter given twice, a
  // value where none belongs, a missing or invalid value.
  (void)element;
  (void)kind;
  throw std::logic_error(
      "exercise: extensions::parse_parameters is yours to write (lessons/07-extensions/exercise/HINTS.md)");
}

handshake::Extension to_extension(const Parameters& parameters) {
  // The element carrying `parameters`, in the order §7.1 lists them.
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
  // Exercise (step 2): the client reads the response (parse_parameters with
  // Element::response: a malformed one is returned as it is) and checks it
  // against its own offer, parameter by parameter; mismatch(...) when §7.1
  // says to fail. Then the Agreement, every field resolved:
  //   server_no_context_takeover (§7.1.1.1): offered, the response MUST have
  //     it; the server may also add it unasked.
  //   client_no_context_takeover (§7.1.1.2): the server may add it; offered,
  //     the client keeps it even if the response leaves it out (PMD-4).
  //   server_max_window_bits (§7.1.2.1): offered N, the response MUST have a
  //     value <= N; unasked, the server may still limit its own window.
  //   client_max_window_bits (§7.1.2.2): in the response only if offered, and
  //     no larger than an offered value; an offered value with no answer is
  //     still the client's limit.
  // A window nobody limited is kMaxWindowBits (15).
  (void)offer;
  (void)response;
  throw std::logic_error(
      "exercise: extensions::client_agreement is yours to write (lessons/07-extensions/exercise/HINTS.md)");
}

// --- Server ---------------------------------------------------------------------------

std::optional<Accepted> server_accept(const Settings& settings, std::span<const handshake::Extension> offers) {
  // Exercise (step 3): the offers in the client's order of preference (RFC
  // 6455 §9.1); skip those that are not permessage-deflate and those
  // parse_parameters refuses (§7.1: "A server MUST decline an extension
  // negotiation offer" it cannot accept); accept the first other one
  // (check(settings) first). Its response (to_extension) may change only
  // what §7.1 lets the server change:
  //   server_no_context_takeover: offered, it MUST be answered; the
  //     server's setting adds it;
  //   client_no_context_takeover: the offer's, or the server's setting;
  //   server_max_window_bits: the offered value, the setting, or the smaller
  //     of the two;
  //   client_max_window_bits: only if offered: the offered value, the
  //     setting, or the smaller; nothing when neither has a value.
  // The Agreement is what the response says (unset windows are 15), and
  // Accepted::offer the index of the accepted offer. nullopt: no compression.
  (void)settings;
  (void)offers;
  throw std::logic_error(
      "exercise: extensions::server_accept is yours to write (lessons/07-extensions/exercise/HINTS.md)");
}

// --- The handshake chapter's plug ----------------------------------------------------

Negotiator::Negotiator(Settings settings) : settings_(std::move(settings)) { check(settings_); }

std::vector<handshake::Extension> Negotiator::client_offers() const { return {client_offer(settings_)}; }

MaybeViolation Negotiator::client_accept(const handshake::Extension& response) {
  // Exercise (step 4): called once for each permessage-deflate element of
  // the server's response. RFC 7692 §5: a response that accepts two
  // extensions using RSV1 fails the connection: a second element here is
  // error::rsv1_conflict. Otherwise compare the response with this
  // negotiator's own offer (parse_parameters(client_offer(settings_), ...)),
  // and keep the agreement in agreement_, or return the violation.
  (void)response;
  throw std::logic_error(
      "exercise: Negotiator::client_accept is yours to write (lessons/07-extensions/exercise/HINTS.md)");
}

std::optional<handshake::Extension> Negotiator::server_accept(std::span<const handshake::Extension> offers) {
  auto accepted = extensions::server_accept(settings_, offers);
  if (!accepted) return std::nullopt;
  agreement_ = accepted->agreement;
  return accepted->response;
}

}  // namespace wslab::extensions
