// Module state_dict saved to and loaded from safetensors files.
#include <gtest/gtest.h>

#include <filesystem>

#include "ember/ember.h"

using namespace ember;

namespace {
std::shared_ptr<nn::Sequential> small_mlp() {
  return std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(4, 8),
                                          std::make_shared<nn::ReLU>(),
                                          std::make_shared<nn::Linear>(8, 3));
}
std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("ember_io_state_dict_" + name)).string();
}
}  // namespace

TEST(IoStateDict, RoundTripRestoresEveryParameter) {
  manual_seed(7);
  auto a = small_mlp();
  const std::string path = temp_path("roundtrip.safetensors");
  io::save_state_dict(*a, path, {{"format", "pt"}});
  EXPECT_EQ(io::read_safetensors_metadata(path).at("format"), "pt");

  manual_seed(8);
  auto b = small_mlp();
  EXPECT_FALSE(allclose(a->named_parameters().at("0.weight"), b->named_parameters().at("0.weight")));
  io::load_state_dict(*b, path);
  const nn::StateDict loaded = b->state_dict();
  for (const auto& [name, t] : a->state_dict()) {
    const Tensor* other = loaded.find(name);
    ASSERT_NE(other, nullptr) << name;
    EXPECT_TRUE(allclose(t, *other, 0, 0)) << name;
  }
  Tensor x = randn({2, 4});
  EXPECT_TRUE(allclose((*a)(x), (*b)(x), 0, 0));
  std::filesystem::remove(path);
}

TEST(IoStateDict, WrongModuleNamesFileAndKeys) {
  auto a = small_mlp();
  const std::string path = temp_path("wrong.safetensors");
  io::save_state_dict(*a, path);
  auto other = std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(4, 8));
  try {
    io::load_state_dict(*other, path);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find("2.weight"), std::string::npos) << msg;
  }
  std::filesystem::remove(path);
}
