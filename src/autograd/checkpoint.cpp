// Activation checkpointing: forward without saved activations, recomputed during backward.
#include "ember/autograd/functional.h"
#include "ember/autograd/grad_mode.h"
#include "ember/autograd/node.h"
#include "ember/core/generator.h"

namespace ember::autograd {

// Note [Activation checkpointing]
// The forward runs under no-grad, so fn's intermediate tensors die as soon as fn returns; one node
// links the output to x. Its backward restores the default generator to its state before the
// forward (dropout draws the same masks), reruns fn on a fresh leaf copy of x with grad mode on,
// and calls backward through that small graph: parameters inside fn accumulate their gradients
// there (their hooks fire, so DDP buckets still fill during backward), and the leaf's gradient
// goes on to x. The generator then returns to where it was.
Tensor checkpoint(const std::function<Tensor(const Tensor&)>& fn, const Tensor& x) {
  if (!GradMode::is_enabled() || !x.requires_grad()) return fn(x);
  const Generator::State rng = default_generator().state();
  Tensor out;
  {
    NoGradGuard no_grad;
    out = fn(x);
  }
  auto saved = std::make_shared<SavedTensor>(x.detach());
  record("CheckpointBackward", out, {x}, [fn, saved, rng](const Tensor& grad_out) {
    Generator& gen = default_generator();
    const Generator::State now = gen.state();
    gen.set_state(rng);
    Tensor leaf = saved->get("CheckpointBackward").detach();
    leaf.requires_grad_();
    Tensor y;
    {
      GradModeGuard grad_on(true);
      y = fn(leaf);
    }
    gen.set_state(now);
    backward({y}, {grad_out});
    return std::vector<Tensor>{leaf.grad()};
  });
  return out;
}

}  // namespace ember::autograd
