// One training epoch of the Fashion-MNIST CNN (examples/fmnist_cnn.toml: batch 128, Adam 1e-3) on
// the 60,000 training images, Ember and libtorch in one process; prints "EPOCH<TAB>impl<TAB>s".
// Usage: cnn_epoch DATA_DIR (data/fashion-mnist, from scripts/get-data.sh fashion-mnist)
#include <torch/torch.h>

#include <chrono>
#include <cstdio>

#include "ember/data/idx.h"
#include "ember/data/loader.h"
#include "ember/ember.h"

namespace {

constexpr int64_t kBatch = 128;

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double ember_epoch(const ember::Tensor& x, const ember::Tensor& y) {
  using namespace ember;
  manual_seed(0);
  auto model = std::make_shared<nn::Sequential>(
      std::make_shared<nn::Conv2d>(1, 32, 3, 1, 1), std::make_shared<nn::ReLU>(),
      std::make_shared<nn::MaxPool2d>(Shape{2}), std::make_shared<nn::Conv2d>(32, 64, 3, 1, 1),
      std::make_shared<nn::ReLU>(), std::make_shared<nn::MaxPool2d>(Shape{2}),
      std::make_shared<nn::Flatten>(), std::make_shared<nn::Linear>(3136, 128),
      std::make_shared<nn::ReLU>(), std::make_shared<nn::Linear>(128, 10));
  optim::Adam opt(model->parameters(), {.lr = 1e-3});
  data::DataLoader loader(x, y, kBatch, /*shuffle=*/true, /*drop_last=*/false, 0, 4);
  const auto t0 = std::chrono::steady_clock::now();
  loader.start_epoch(0);
  while (auto b = loader.next()) {
    opt.zero_grad();
    Tensor loss = nn::functional::cross_entropy((*model)(b->x), b->y);
    loss.backward();
    opt.step();
  }
  return seconds_since(t0);
}

double torch_epoch(const torch::Tensor& x, const torch::Tensor& y) {
  using namespace torch::nn;
  torch::manual_seed(0);
  Sequential model(Conv2d(Conv2dOptions(1, 32, 3).padding(1)), ReLU(), MaxPool2d(2),
                   Conv2d(Conv2dOptions(32, 64, 3).padding(1)), ReLU(), MaxPool2d(2), Flatten(),
                   Linear(3136, 128), ReLU(), Linear(128, 10));
  torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(1e-3));
  const auto t0 = std::chrono::steady_clock::now();
  const torch::Tensor order = torch::randperm(x.size(0));
  for (int64_t i = 0; i < x.size(0); i += kBatch) {
    const torch::Tensor idx = order.slice(0, i, std::min(i + kBatch, x.size(0)));
    opt.zero_grad();
    torch::Tensor loss = torch::nn::functional::cross_entropy(
        model->forward(x.index_select(0, idx)), y.index_select(0, idx));
    loss.backward();
    opt.step();
  }
  return seconds_since(t0);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: cnn_epoch DATA_DIR (e.g. data/fashion-mnist)\n");
    return 2;
  }
  torch::set_num_threads(2);
  ember::data::FashionMnist f = ember::data::load_fashion_mnist(argv[1]);
  ember::Tensor x = (f.train_images / 255.0 - 0.2860) / 0.3530;  // the training mean and std
  ember::Tensor y = f.train_labels;
  torch::Tensor tx = torch::from_blob(x.contiguous().raw_data(), {x.size(0), 1, 28, 28}).clone();
  torch::Tensor ty =
      torch::from_blob(y.contiguous().raw_data(), {y.size(0)}, torch::kInt64).clone();
  for (int rep = 0; rep < 2; ++rep) {  // interleaved, twice: the best of each counts
    std::printf("EPOCH\tember\t%.3f\n", ember_epoch(x, y));
    std::fflush(stdout);
    std::printf("EPOCH\tlibtorch\t%.3f\n", torch_epoch(tx, ty));
    std::fflush(stdout);
  }
  return 0;
}
