// Internal: GPT-2's map between bytes and printable Unicode characters (bytes_to_unicode).
#pragma once

#include <array>

namespace ember::data::detail {

/// GPT-2's bytes_to_unicode: the printable Latin-1 bytes ('!'..'~', U+00A1..U+00AC,
/// U+00AE..U+00FF) map to themselves, the other 68 bytes to U+0100, U+0101, ... in byte order.
/// order lists the bytes in GPT-2's id order (the printable ones first), so id i < 256 of a GPT-2
/// vocabulary is byte order[i].
struct ByteMap {
  std::array<char32_t, 256> to_char{};
  std::array<unsigned char, 256> order{};
  std::array<int, 256 + 68> from_char{};
  ByteMap() {
    int k = 0, extra = 0;
    auto printable = [](int b) {
      return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    };
    for (int b = 0; b < 256; ++b)
      if (printable(b)) order[k++] = static_cast<unsigned char>(b), to_char[b] = b;
    for (int b = 0; b < 256; ++b)
      if (!printable(b)) order[k++] = static_cast<unsigned char>(b), to_char[b] = 256 + extra++;
    from_char.fill(-1);
    for (int b = 0; b < 256; ++b) from_char[to_char[b]] = b;
  }
  /// The byte of character c, or -1 when c is not in the map.
  int to_byte(char32_t c) const { return c < from_char.size() ? from_char[c] : -1; }
};

inline const ByteMap& byte_map() {
  static const ByteMap m;
  return m;
}

}  // namespace ember::data::detail
