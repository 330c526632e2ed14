// ZeRO stage 1: owners, parameter broadcasts and the gathered optimizer state (Note [ZeRO-1]).
#include "ember/dist/zero.h"

#include <cstring>
#include <string>

#include "ember/autograd/grad_mode.h"
#include "ember/ops/creation.h"

namespace ember::dist {

namespace {

// Optimizer state keys are "state.<index>.<buffer>" or "param_groups.<group>.<field>".
bool parse_state_key(const std::string& key, size_t& index, std::string& rest) {
  if (!key.starts_with("state.")) return false;
  const size_t dot = key.find('.', 6);
  if (dot == std::string::npos || dot == 6 || dot > 24) return false;
  for (size_t i = 6; i < dot; ++i)
    if (key[i] < '0' || key[i] > '9') return false;
  index = std::stoul(key.substr(6, dot - 6));
  rest = key.substr(dot + 1);
  return true;
}

// A list of named tensors as int64 words: count, then per entry the name length, the name, the
// dtype, the rank, the sizes and the data (each padded to whole words).
void put_bytes(std::vector<int64_t>& out, const void* p, size_t n) {
  const size_t at = out.size();
  out.resize(at + (n + 7) / 8, 0);
  if (n) std::memcpy(out.data() + at, p, n);
}

std::vector<int64_t> pack(const optim::StateDict& entries) {
  std::vector<int64_t> out = {static_cast<int64_t>(entries.size())};
  for (const auto& [name, t] : entries) {
    out.push_back(static_cast<int64_t>(name.size()));
    put_bytes(out, name.data(), name.size());
    out.push_back(static_cast<int64_t>(t.dtype()));
    out.push_back(t.dim());
    for (int64_t s : t.shape()) out.push_back(s);
    const Tensor c = t.contiguous();
    put_bytes(out, static_cast<const char*>(c.storage()->data()) + c.offset() * c.element_size(),
              static_cast<size_t>(c.numel()) * c.element_size());
  }
  return out;
}

optim::StateDict unpack(const int64_t* w) {
  optim::StateDict out;
  const int64_t count = *w++;
  for (int64_t i = 0; i < count; ++i) {
    const auto len = static_cast<size_t>(*w++);
    std::string name(reinterpret_cast<const char*>(w), len);
    w += (len + 7) / 8;
    const auto dtype = static_cast<DType>(*w++);
    Shape shape(static_cast<size_t>(*w++));
    for (int64_t& s : shape) s = *w++;
    Tensor t = zeros(shape, dtype);
    const size_t nbytes = static_cast<size_t>(t.numel()) * t.element_size();
    if (nbytes) std::memcpy(t.storage()->data(), w, nbytes);
    w += (nbytes + 7) / 8;
    out.emplace_back(std::move(name), std::move(t));
  }
  return out;
}

Tensor ids_tensor(size_t n) {
  Tensor t = zeros({static_cast<int64_t>(n)}, kInt64);
  for (size_t i = 0; i < n; ++i) t.data_ptr<int64_t>()[i] = static_cast<int64_t>(i);
  return t;
}

}  // namespace

size_t state_bytes(const optim::StateDict& state) {
  size_t n = 0;
  for (const auto& [name, t] : state)
    if (name.starts_with("state.")) n += static_cast<size_t>(t.numel()) * t.element_size();
  return n;
}

ZeroShards::ZeroShards(std::vector<Tensor> params, std::shared_ptr<ProcessGroup> group)
    : params_(std::move(params)), group_(std::move(group)) {
  EMBER_CHECK_T(DistError, group_ != nullptr, "ZeRO: no process group");
  std::vector<int64_t> load(static_cast<size_t>(group_->size()), 0);
  for (size_t k = 0; k < params_.size(); ++k) {
    EMBER_CHECK_T(DistError, params_[k].dtype() == params_[0].dtype(), "ZeRO: parameter ", k,
                  " is ", params_[k].dtype(), " but parameter 0 is ", params_[0].dtype(),
                  "; sharding needs one dtype");
    size_t least = 0;  // the least loaded rank (the lowest on ties), so owners match on all ranks
    for (size_t r = 1; r < load.size(); ++r)
      if (load[r] < load[least]) least = r;
    load[least] += params_[k].numel();
    owner_.push_back(static_cast<int>(least));
    if (static_cast<int>(least) == group_->rank()) {
      local_.push_back(params_[k]);
      global_of_local_.push_back(k);
    }
  }
}

void ZeroShards::broadcast_parameters() {
  if (params_.empty()) return;
  NoGradGuard no_grad;
  for (int r = 0; r < group_->size(); ++r) {
    int64_t numel = 0;
    for (size_t k = 0; k < params_.size(); ++k)
      if (owner_[k] == r) numel += params_[k].numel();
    if (numel == 0) continue;
    Tensor flat = zeros({numel}, params_[0].dtype());
    auto for_each_owned = [&](auto&& fn) {
      int64_t at = 0;
      for (size_t k = 0; k < params_.size(); ++k)
        if (owner_[k] == r) {
          fn(params_[k], flat.narrow(0, at, params_[k].numel()).view(params_[k].shape()));
          at += params_[k].numel();
        }
    };
    if (r == group_->rank()) for_each_owned([](const Tensor& p, Tensor slot) { slot.copy_(p); });
    group_->broadcast(flat, r);
    if (r != group_->rank())
      for_each_owned([](const Tensor& p, const Tensor& slot) { Tensor(p).copy_(slot); });
  }
}

optim::StateDict ZeroShards::gather_state_dict(const optim::StateDict& local, int root) {
  // This rank's per-parameter entries under their global indices.
  optim::StateDict mine;
  for (const auto& [key, t] : local) {
    size_t index = 0;
    std::string rest;
    if (parse_state_key(key, index, rest)) {
      EMBER_CHECK_T(DistError, index < global_of_local_.size(), "ZeRO: optimizer state key '", key,
                    "' names parameter ", index, " of ", global_of_local_.size());
      mine.emplace_back("state." + std::to_string(global_of_local_[index]) + "." + rest, t);
    }
  }
  const std::vector<int64_t> words = pack(mine);
  Tensor len = full({1}, static_cast<double>(words.size()), kInt64);
  Tensor lens = zeros({static_cast<int64_t>(group_->size()), 1}, kInt64);
  group_->allgather(len, lens);

  std::vector<optim::StateDict> per_rank(static_cast<size_t>(group_->size()));
  for (int r = 0; r < group_->size(); ++r) {
    Tensor blob = zeros({lens.data_ptr<int64_t>()[r]}, kInt64);
    if (r == group_->rank())
      std::memcpy(blob.data_ptr<int64_t>(), words.data(), words.size() * sizeof(int64_t));
    group_->broadcast(blob, r);
    if (group_->rank() == root) per_rank[static_cast<size_t>(r)] = unpack(blob.data_ptr<int64_t>());
  }
  if (group_->rank() != root) return {};

  // Per parameter in global order (as one optimizer names them), then the group entries.
  std::vector<optim::StateDict> by_param(params_.size());
  for (auto& entries : per_rank)
    for (auto& [key, t] : entries) {
      size_t index = 0;
      std::string rest;
      parse_state_key(key, index, rest);
      by_param[index].emplace_back(std::move(key), std::move(t));
    }
  optim::StateDict whole;
  for (auto& entries : by_param)
    for (auto& e : entries) whole.push_back(std::move(e));
  for (const auto& [key, t] : local)
    if (key.starts_with("param_groups."))
      whole.emplace_back(key, key.ends_with(".params") ? ids_tensor(params_.size()) : t);
  return whole;
}

optim::StateDict ZeroShards::local_state_dict(const optim::StateDict& whole) const {
  std::vector<long> local_of(params_.size(), -1);
  for (size_t i = 0; i < global_of_local_.size(); ++i)
    local_of[global_of_local_[i]] = static_cast<long>(i);
  optim::StateDict out;
  for (const auto& [key, t] : whole) {
    size_t index = 0;
    std::string rest;
    if (parse_state_key(key, index, rest)) {
      EMBER_CHECK_T(DistError, index < params_.size(), "ZeRO: checkpoint optimizer key '", key,
                    "' names parameter ", index, " but the model has ", params_.size());
      if (local_of[index] >= 0)
        out.emplace_back("state." + std::to_string(local_of[index]) + "." + rest, t);
    } else if (key.starts_with("param_groups.")) {
      out.emplace_back(key, key.ends_with(".params") ? ids_tensor(local_.size()) : t);
    }
  }
  return out;
}

}  // namespace ember::dist
