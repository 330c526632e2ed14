// Activation checkpointing: the same gradients (also with dropout), less memory held after forward.
#include <gtest/gtest.h>

#include "ember/ember.h"
#include "ember/models/gpt.h"

using namespace ember;

namespace {

models::GPTConfig tiny_gpt(double dropout) {
  models::GPTConfig c;
  c.vocab_size = 40;
  c.block_size = 32;
  c.n_layer = 3;
  c.n_head = 2;
  c.n_embd = 32;
  c.dropout = dropout;
  return c;
}

// Parameter gradients of one training step of a tiny GPT, with or without checkpointing.
std::vector<Tensor> gpt_grads(bool checkpointing, size_t* held_after_forward = nullptr) {
  manual_seed(3);
  models::GPT gpt(tiny_gpt(0.1));
  gpt.gradient_checkpointing = checkpointing;
  gpt.train();
  const Tensor idx = randint(0, 40, {4, 32});
  const size_t before = cpu_memory_stats().allocated;
  const Tensor logits = gpt(idx);
  if (held_after_forward) *held_after_forward = cpu_memory_stats().allocated - before;
  nn::functional::cross_entropy(logits.flatten(0, 1), idx.flatten()).backward();
  std::vector<Tensor> grads;
  for (const Tensor& p : gpt.parameters()) grads.push_back(p.grad().clone());
  return grads;
}

}  // namespace

TEST(Checkpoint, SameGradientsForInputAndParameters) {
  manual_seed(1);
  const Tensor w = randn({5, 5}).requires_grad_();
  auto fn = [&](const Tensor& t) { return tanh(matmul(t, w)).pow(2.0); };
  const Tensor x0 = randn({3, 5});
  Tensor x = x0.clone().requires_grad_();
  fn(x).sum().backward();
  const Tensor gx = x.grad().clone(), gw = w.grad().clone();
  w.set_grad(Tensor());
  Tensor x2 = x0.clone().requires_grad_();
  const Tensor y = autograd::checkpoint(fn, x2);
  EXPECT_NE(y.grad_fn(), nullptr);
  y.sum().backward();
  EXPECT_EQ((x2.grad() - gx).abs().max().item(), 0.0);
  EXPECT_EQ((w.grad() - gw).abs().max().item(), 0.0);
}

TEST(Checkpoint, WithoutGradModeItIsJustTheFunction) {
  const Tensor x = randn({2, 2}).requires_grad_();
  NoGradGuard no_grad;
  const Tensor y = autograd::checkpoint([](const Tensor& t) { return t * 2.0; }, x);
  EXPECT_EQ(y.grad_fn(), nullptr);
}

TEST(Checkpoint, ModifyingTheSavedInputInPlaceIsAnError) {
  const Tensor w = randn({3}).requires_grad_();
  Tensor x = randn({3}).requires_grad_();
  Tensor x1 = x * 1.0;
  const Tensor y = autograd::checkpoint([&](const Tensor& t) { return t * w; }, x1);
  {
    NoGradGuard no_grad;
    x1.add_(1.0);
  }
  EXPECT_THROW(y.sum().backward(), Error);
}

TEST(Checkpoint, GptWithDropoutGetsTheSameGradientsAndHoldsLessAfterForward) {
  size_t held_plain = 0, held_ckpt = 0;
  const std::vector<Tensor> plain = gpt_grads(false, &held_plain);
  const std::vector<Tensor> ckpt = gpt_grads(true, &held_ckpt);
  ASSERT_EQ(plain.size(), ckpt.size());
  for (size_t i = 0; i < plain.size(); ++i)
    EXPECT_LE((plain[i] - ckpt[i]).abs().max().item(), 1e-6 * (1 + plain[i].abs().max().item()))
        << "parameter " << i;
  // The blocks' activations (attention, MLP, norms: several (4, 32, 32..128) tensors each) are not
  // kept: far less stays allocated between forward and backward.
  EXPECT_LT(held_ckpt * 2, held_plain) << held_ckpt << " vs " << held_plain << " bytes";
}
