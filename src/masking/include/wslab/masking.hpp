// Chapter 4: masking (RFC 6455 §5.3, §10.3).
//
// Every frame a client sends is masked with a fresh, unpredictable 32-bit
// key; a server never masks (§5.1). Masking is a XOR with the key repeated:
//
//     j                   = i MOD 4
//     transformed-octet-i = original-octet-i XOR masking-key-octet-j
//
// The same operation masks and unmasks. Its purpose is not secrecy: it keeps
// a script in a browser from choosing the bytes a proxy sees on the wire, so
// it cannot forge an HTTP request that poisons the proxy's cache (§10.3).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace wslab::masking {

// The 4-byte Masking-key field of a frame header (§5.2), in wire order.
using MaskingKey = std::array<std::uint8_t, 4>;

// XOR `data` with the key, in place. `offset` is the position of data[0]
// within the frame's payload, so a payload that arrives in pieces can be
// unmasked piece by piece: octet i of the payload uses key[(offset + i) % 4].
// Word-at-a-time; tests compare it with apply_mask_reference.
void apply_mask(std::span<std::uint8_t> data, MaskingKey key, std::uint64_t offset = 0) noexcept;

// The same transformation, one octet at a time, exactly as §5.3 writes it.
// Slow and obviously right: the fast path is tested against it.
void apply_mask_reference(std::span<std::uint8_t> data, MaskingKey key,
                          std::uint64_t offset = 0) noexcept;

// A fresh key from a cryptographically secure generator (OpenSSL RAND_bytes),
// as §5.3 and §10.3 require: "derived from a strong source of entropy", never
// rand() or a seeded PRNG a script could predict. Throws std::runtime_error
// only if the system's entropy source fails.
MaskingKey random_key();

}  // namespace wslab::masking
