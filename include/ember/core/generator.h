// Random numbers: a seeded, reproducible generator (xoshiro256**) and the global default one.
#pragma once

#include <array>
#include <cstdint>

namespace ember {

/// A seedable random generator. The same seed gives the same stream on every machine.
class Generator {
 public:
  explicit Generator(uint64_t seed = 0x5eed) { manual_seed(seed); }
  void manual_seed(uint64_t seed);
  uint64_t seed() const { return seed_; }
  /// Next 64 random bits.
  uint64_t next_u64();
  /// Uniform in [0, 1) with 53 random bits.
  double next_double() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }
  /// Uniform in [0, 1) with 24 random bits (exactly representable as float).
  float next_float() { return static_cast<float>(next_u64() >> 40) * 0x1.0p-24f; }
  /// Standard normal (Box-Muller).
  double next_normal();
  /// Uniform integer in [0, n).
  uint64_t next_below(uint64_t n);

  /// Full state, for checkpoints: four state words, the seed, and a cached normal.
  struct State {
    std::array<uint64_t, 4> s{};
    uint64_t seed = 0;
    bool has_spare = false;
    double spare = 0;
  };
  State state() const { return {s_, seed_, has_spare_, spare_}; }
  void set_state(const State& st);

 private:
  std::array<uint64_t, 4> s_{};
  uint64_t seed_ = 0;
  bool has_spare_ = false;
  double spare_ = 0;
};

/// The generator used when an op is not given one.
Generator& default_generator();
/// Seeds the default generator (torch.manual_seed).
void manual_seed(uint64_t seed);

}  // namespace ember
