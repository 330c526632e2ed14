// LR schedulers against PyTorch 1.13: StepLR against libtorch's torch::optim::StepLR in-process,
// every scheduler against lr sequences recorded once from Python's torch.optim.lr_scheduler.
#include <cmath>

#include "support/torch_bridge.h"

using namespace ember;

namespace {

// Reference sequences: element e is the lr (or momentum / beta1) of a group after e scheduler
// steps (e = 0 is right after construction). Generated with /usr/bin/python3 (torch 1.13.1) by
// running this script and pasting its output below:
//
//   import torch
//   from torch.optim import SGD, Adam, lr_scheduler as L
//   def moms(opt, key):
//       return [g[key] if key != 'betas' else g['betas'][0] for g in opt.param_groups]
//   def run(make_opt, make_sched, n=50, metrics=None, key=None):
//       opt = make_opt(); s = make_sched(opt); out = [[g['lr'] for g in opt.param_groups]]
//       mom = [moms(opt, key)] if key else None
//       for i in range(n):
//           opt.step()
//           s.step(metrics[i]) if metrics else s.step()
//           out.append([g['lr'] for g in opt.param_groups])
//           if key: mom.append(moms(opt, key))
//       return out, mom
//   p = lambda: [torch.nn.Parameter(torch.zeros(1))]
//   sgd = lambda: SGD(p(), lr=0.1)
//   sgd2 = lambda: SGD([{'params': p()}, {'params': p(), 'lr': 0.02}], lr=0.1, momentum=0.9)
//   adam = lambda: Adam(p(), lr=0.1)
//   metrics = [1.0 / (1 + 0.1 * i) if i < 12 else 0.5 + 0.001 * (i % 3) for i in range(50)]
//   cases = {
//     'step': run(sgd, lambda o: L.StepLR(o, 7, 0.5)),
//     'multistep': run(sgd, lambda o: L.MultiStepLR(o, [5, 12, 12, 30], 0.3)),
//     'exponential': run(sgd, lambda o: L.ExponentialLR(o, 0.93)),
//     'cosine': run(sgd, lambda o: L.CosineAnnealingLR(o, 20, 0.001)),
//     'warmup': run(sgd, lambda o: L.SequentialLR(o, [L.LinearLR(o, 0.1, 1.0, 10),
//                                     L.CosineAnnealingLR(o, 30, 0.002)], [10]), n=40),
//     'onecycle_cos': run(sgd2, lambda o: L.OneCycleLR(o, [0.5, 0.2], 50), key='momentum'),
//     'onecycle_linear3': run(adam, lambda o: L.OneCycleLR(o, 0.4, 50, pct_start=0.25,
//                             anneal_strategy='linear', three_phase=True, div_factor=10.0,
//                             final_div_factor=100.0), key='betas'),
//     'plateau_min_rel': run(sgd, lambda o: L.ReduceLROnPlateau(o, 'min', 0.5, 2, 1e-2, 'rel', 1,
//                            0.01), metrics=metrics),
//     'plateau_max_abs': run(sgd, lambda o: L.ReduceLROnPlateau(o, 'max', 0.3, 1, 0.05, 'abs', 0,
//                            0.0), metrics=[-m for m in metrics]),
//   }
//   for name, (lrs, mom) in cases.items():
//       for label, seq in (('lr', lrs), ('momentum', mom)):
//           if seq is None: continue
//           for gi in range(len(seq[0])):
//               vals = [repr(row[gi]) for row in seq]
//               print('const std::vector<double> k_%s_%s%d = {' % (name, label, gi))
//               for i in range(0, len(vals), 4): print('    ' + ', '.join(vals[i:i+4]) + ',')
//               print('};')

// clang-format off
const std::vector<double> k_step_lr0 = {
    0.1, 0.1, 0.1, 0.1,
    0.1, 0.1, 0.1, 0.05,
    0.05, 0.05, 0.05, 0.05,
    0.05, 0.05, 0.025, 0.025,
    0.025, 0.025, 0.025, 0.025,
    0.025, 0.0125, 0.0125, 0.0125,
    0.0125, 0.0125, 0.0125, 0.0125,
    0.00625, 0.00625, 0.00625, 0.00625,
    0.00625, 0.00625, 0.00625, 0.003125,
    0.003125, 0.003125, 0.003125, 0.003125,
    0.003125, 0.003125, 0.0015625, 0.0015625,
    0.0015625, 0.0015625, 0.0015625, 0.0015625,
    0.0015625, 0.00078125, 0.00078125,
};
const std::vector<double> k_multistep_lr0 = {
    0.1, 0.1, 0.1, 0.1,
    0.1, 0.03, 0.03, 0.03,
    0.03, 0.03, 0.03, 0.03,
    0.0026999999999999997, 0.0026999999999999997, 0.0026999999999999997, 0.0026999999999999997,
    0.0026999999999999997, 0.0026999999999999997, 0.0026999999999999997, 0.0026999999999999997,
    0.0026999999999999997, 0.0026999999999999997, 0.0026999999999999997, 0.0026999999999999997,
    0.0026999999999999997, 0.0026999999999999997, 0.0026999999999999997, 0.0026999999999999997,
    0.0026999999999999997, 0.0026999999999999997, 0.0008099999999999998, 0.0008099999999999998,
    0.0008099999999999998, 0.0008099999999999998, 0.0008099999999999998, 0.0008099999999999998,
    0.0008099999999999998, 0.0008099999999999998, 0.0008099999999999998, 0.0008099999999999998,
    0.0008099999999999998, 0.0008099999999999998, 0.0008099999999999998, 0.0008099999999999998,
    0.0008099999999999998, 0.0008099999999999998, 0.0008099999999999998, 0.0008099999999999998,
    0.0008099999999999998, 0.0008099999999999998, 0.0008099999999999998,
};
const std::vector<double> k_exponential_lr0 = {
    0.1, 0.09300000000000001, 0.08649000000000001, 0.08043570000000001,
    0.07480520100000002, 0.06956883693000002, 0.06469901834490002, 0.06017008706075702,
    0.05595818096650403, 0.052041108298848754, 0.04839823071792934, 0.04501035456767429,
    0.0418596297479371, 0.0389294556655815, 0.036204393768990796, 0.033670086205161445,
    0.03131318017080015, 0.02912125755884414, 0.02708276952972505, 0.0251869756626443,
    0.0234238873662592, 0.021784215250621058, 0.020259320183077585, 0.018841167770262155,
    0.017522286026343804, 0.016295726004499737, 0.015155025184184757, 0.014094173421291824,
    0.013107581281801397, 0.0121900505920753, 0.011336747050630029, 0.010543174757085928,
    0.009805152524089913, 0.009118791847403619, 0.008480476418085366, 0.00788684306881939,
    0.0073347640540020334, 0.006821330570221892, 0.00634383743030636, 0.0058997688101849145,
    0.005486784993471971, 0.005102710043928933, 0.004745520340853908, 0.0044133339169941345,
    0.0041044005428045455, 0.0038170925048082276, 0.003549896029471652, 0.0033014033074086364,
    0.003070305075890032, 0.00285538372057773, 0.002655506860137289,
};
const std::vector<double> k_cosine_lr0 = {
    0.1, 0.09939057285945932, 0.09757729755661011, 0.09460482294732421,
    0.09054634122155991, 0.0855017856687341, 0.07959536998847742, 0.07297252973710756,
    0.0657963412215599, 0.05824350601949144, 0.0505, 0.04275649398050859,
    0.03520365877844011, 0.02802747026289244, 0.02140463001152259, 0.015498214331265903,
    0.010453658778440109, 0.006395177052675795, 0.0034227024433899004, 0.001609427140540686,
    0.001, 0.0016094271405406803, 0.003422702443389889, 0.006395177052675788,
    0.010453658778440095, 0.015498214331265886, 0.02140463001152257, 0.028027470262892415,
    0.03520365877844008, 0.04275649398050855, 0.05049999999999997, 0.058243506019491395,
    0.06579634122155986, 0.07297252973710752, 0.07959536998847737, 0.08550178566873405,
    0.09054634122155984, 0.09460482294732414, 0.09757729755661004, 0.09939057285945926,
    0.09999999999999995, 0.09939057285945926, 0.09757729755661006, 0.09460482294732417,
    0.09054634122155988, 0.08550178566873406, 0.0795953699884774, 0.07297252973710751,
    0.06579634122155988, 0.05824350601949146, 0.05049999999999998,
};
const std::vector<double> k_warmup_lr0 = {
    0.010000000000000002, 0.019000000000000003, 0.028000000000000008, 0.03700000000000001,
    0.04600000000000001, 0.055000000000000014, 0.06400000000000002, 0.07300000000000002,
    0.08200000000000003, 0.09100000000000004, 0.1, 0.09973157287304539,
    0.09892923243595647, 0.09760176929846252, 0.09576372742448742, 0.0934352447854375,
    0.09064183272437241, 0.0874140964483923, 0.08378739971158404, 0.07980147736233117,
    0.0755, 0.07093009551071422, 0.06614183272437243, 0.061187672850070214,
    0.05612189470011504, 0.051000000000000024, 0.045878105299885, 0.0408123271499298,
    0.035858167275627593, 0.03106990448928581, 0.026500000000000017, 0.022198522637668826,
    0.018212600288415967, 0.014585903551607696, 0.011358167275627584, 0.008564755214562507,
    0.0062362725755125544, 0.004398230701537479, 0.0030707675640435222, 0.0022684271269546035,
    0.002,
};
const std::vector<double> k_onecycle_cos_lr0 = {
    0.020000000000000018, 0.026017301076362354, 0.043767471703419436, 0.07236044420767285,
    0.11036244755390395, 0.15586790261178607, 0.20659497585048459, 0.26,
    0.31340502414951543, 0.36413209738821395, 0.409637552446096, 0.44763955579232717,
    0.4762325282965806, 0.49398269892363766, 0.5, 0.4989935775245158,
    0.4959824132200688, 0.49099075121110264, 0.48405878142506364, 0.47524231600673683,
    0.46461233995167295, 0.4522544395767425, 0.4382681134294368, 0.4227659711840672,
    0.40587282697488153, 0.3877246944660442, 0.3684676917495872, 0.34825686488844926,
    0.3272549395767425, 0.30563101096814466, 0.28355918222114807, 0.26121716272279843,
    0.2387848372772017, 0.21644281777885202, 0.19437098903185537, 0.17274706042325755,
    0.15174513511155077, 0.13153430825041282, 0.11227730553395585, 0.09412917302511849,
    0.07723602881593283, 0.06173388657056329, 0.04774756042325754, 0.03538966004832708,
    0.024759683993263143, 0.015943218574936337, 0.009011248788897386, 0.004019586779931182,
    0.0010084224754842283, 2e-06, 0.0010084224754842283,
};
const std::vector<double> k_onecycle_cos_lr1 = {
    0.008000000000000007, 0.010406920430544947, 0.01750698868136777, 0.028944177683069144,
    0.04414497902156159, 0.06234716104471444, 0.08263799034019383, 0.10400000000000001,
    0.1253620096598062, 0.14565283895528558, 0.16385502097843843, 0.17905582231693087,
    0.19049301131863225, 0.19759307956945507, 0.2, 0.19959743100980634,
    0.19839296528802755, 0.19639630048444107, 0.19362351257002547, 0.19009692640269477,
    0.18584493598066917, 0.180901775830697, 0.17530724537177472, 0.16910638847362688,
    0.1623491307899526, 0.15508987778641767, 0.1473870766998349, 0.1393027459553797,
    0.130901975830697, 0.12225240438725786, 0.11342367288845923, 0.10448686508911936,
    0.09551393491088069, 0.08657712711154081, 0.07774839561274215, 0.06909882416930302,
    0.060698054044620316, 0.05261372330016513, 0.044910922213582345, 0.0376516692100474,
    0.030894411526373133, 0.024693554628225315, 0.019099024169303015, 0.014155864019330833,
    0.009903873597305258, 0.006377287429974536, 0.0036044995155589546, 0.0016078347119724728,
    0.0004033689901936913, 8e-07, 0.0004033689901936913,
};
const std::vector<double> k_onecycle_cos_momentum0 = {
    0.95, 0.9487463956090911, 0.945048443395121, 0.9390915741234015,
    0.9311744900929366, 0.9216941869558779, 0.9111260466978157, 0.8999999999999999,
    0.8888739533021842, 0.878305813044122, 0.8688255099070633, 0.8609084258765984,
    0.854951556604879, 0.8512536043909088, 0.85, 0.850201285300238,
    0.8508035205700685, 0.8518018569652073, 0.8531882564680131, 0.854951556604879,
    0.8570775603199067, 0.8595491502812526, 0.8623464266998194, 0.8654468675506567,
    0.8688255099070633, 0.8724551509273948, 0.87630656687635, 0.8803487484173038,
    0.8845491502812526, 0.8888739533021842, 0.8932883367091172, 0.8977567584824742,
    0.9022432415175257, 0.9067116632908827, 0.9111260466978157, 0.9154508497187474,
    0.9196512515826961, 0.9236934331236499, 0.927544849072605, 0.9311744900929366,
    0.9345531324493432, 0.9376535733001805, 0.9404508497187474, 0.9429224396800933,
    0.945048443395121, 0.9468117435319868, 0.9481981430347927, 0.9491964794299315,
    0.949798714699762, 0.95, 0.949798714699762,
};
const std::vector<double> k_onecycle_cos_momentum1 = {
    0.95, 0.9487463956090911, 0.945048443395121, 0.9390915741234015,
    0.9311744900929366, 0.9216941869558779, 0.9111260466978157, 0.8999999999999999,
    0.8888739533021842, 0.878305813044122, 0.8688255099070633, 0.8609084258765984,
    0.854951556604879, 0.8512536043909088, 0.85, 0.850201285300238,
    0.8508035205700685, 0.8518018569652073, 0.8531882564680131, 0.854951556604879,
    0.8570775603199067, 0.8595491502812526, 0.8623464266998194, 0.8654468675506567,
    0.8688255099070633, 0.8724551509273948, 0.87630656687635, 0.8803487484173038,
    0.8845491502812526, 0.8888739533021842, 0.8932883367091172, 0.8977567584824742,
    0.9022432415175257, 0.9067116632908827, 0.9111260466978157, 0.9154508497187474,
    0.9196512515826961, 0.9236934331236499, 0.927544849072605, 0.9311744900929366,
    0.9345531324493432, 0.9376535733001805, 0.9404508497187474, 0.9429224396800933,
    0.945048443395121, 0.9468117435319868, 0.9481981430347927, 0.9491964794299315,
    0.949798714699762, 0.95, 0.949798714699762,
};
const std::vector<double> k_onecycle_linear3_lr0 = {
    0.04, 0.07130434782608697, 0.10260869565217393, 0.13391304347826088,
    0.16521739130434784, 0.1965217391304348, 0.22782608695652176, 0.2591304347826087,
    0.29043478260869565, 0.32173913043478264, 0.35304347826086957, 0.38434782608695656,
    0.38434782608695656, 0.35304347826086957, 0.32173913043478264, 0.29043478260869565,
    0.25913043478260867, 0.22782608695652173, 0.1965217391304348, 0.16521739130434782,
    0.13391304347826088, 0.1026086956521739, 0.07130434782608697, 0.03999999999999998,
    0.038476923076923075, 0.03695384615384616, 0.03543076923076923, 0.033907692307692305,
    0.03238461538461539, 0.03086153846153846, 0.02933846153846154, 0.027815384615384617,
    0.02629230769230769, 0.024769230769230766, 0.023246153846153847, 0.02172307692307692,
    0.0202, 0.018676923076923077, 0.017153846153846155, 0.01563076923076923,
    0.014107692307692307, 0.012584615384615385, 0.011061538461538463, 0.009538461538461534,
    0.008015384615384612, 0.006492307692307693, 0.0049692307692307675, 0.003446153846153842,
    0.0019230769230769232, 0.0003999999999999976, -0.001123076923076928,
};
const std::vector<double> k_onecycle_linear3_momentum0 = {
    0.95, 0.941304347826087, 0.9326086956521739, 0.9239130434782609,
    0.9152173913043478, 0.9065217391304348, 0.8978260869565217, 0.8891304347826087,
    0.8804347826086956, 0.8717391304347826, 0.8630434782608696, 0.8543478260869565,
    0.8543478260869565, 0.8630434782608696, 0.8717391304347826, 0.8804347826086957,
    0.8891304347826087, 0.8978260869565217, 0.9065217391304348, 0.9152173913043478,
    0.9239130434782609, 0.9326086956521739, 0.941304347826087, 0.95,
    0.95, 0.95, 0.95, 0.95,
    0.95, 0.95, 0.95, 0.95,
    0.95, 0.95, 0.95, 0.95,
    0.95, 0.95, 0.95, 0.95,
    0.95, 0.95, 0.95, 0.95,
    0.95, 0.95, 0.95, 0.95,
    0.95, 0.95, 0.95,
};
const std::vector<double> k_plateau_min_rel_lr0 = {
    0.1, 0.1, 0.1, 0.1,
    0.1, 0.1, 0.1, 0.1,
    0.1, 0.1, 0.1, 0.1,
    0.1, 0.1, 0.1, 0.05,
    0.05, 0.05, 0.05, 0.025,
    0.025, 0.025, 0.025, 0.0125,
    0.0125, 0.0125, 0.0125, 0.01,
    0.01, 0.01, 0.01, 0.01,
    0.01, 0.01, 0.01, 0.01,
    0.01, 0.01, 0.01, 0.01,
    0.01, 0.01, 0.01, 0.01,
    0.01, 0.01, 0.01, 0.01,
    0.01, 0.01, 0.01,
};
const std::vector<double> k_plateau_max_abs_lr0 = {
    0.1, 0.1, 0.1, 0.1,
    0.1, 0.1, 0.1, 0.1,
    0.1, 0.1, 0.1, 0.1,
    0.1, 0.03, 0.03, 0.009,
    0.009, 0.0026999999999999997, 0.0026999999999999997, 0.0008099999999999998,
    0.0008099999999999998, 0.00024299999999999994, 0.00024299999999999994, 7.289999999999998e-05,
    7.289999999999998e-05, 2.1869999999999996e-05, 2.1869999999999996e-05, 6.560999999999999e-06,
    6.560999999999999e-06, 1.9682999999999994e-06, 1.9682999999999994e-06, 5.904899999999998e-07,
    5.904899999999998e-07, 1.7714699999999994e-07, 1.7714699999999994e-07, 5.314409999999998e-08,
    5.314409999999998e-08, 1.5943229999999993e-08, 1.5943229999999993e-08, 4.782968999999998e-09,
    4.782968999999998e-09, 4.782968999999998e-09, 4.782968999999998e-09, 4.782968999999998e-09,
    4.782968999999998e-09, 4.782968999999998e-09, 4.782968999999998e-09, 4.782968999999998e-09,
    4.782968999999998e-09, 4.782968999999998e-09, 4.782968999999998e-09,
};
// clang-format on

}  // namespace

namespace {

// Each group's lr (and optionally another hyperparameter) after 0..n scheduler steps.
struct Trace {
  std::vector<std::vector<double>> lr, option;  // [group][epoch]
};

template <class Step>
Trace record(const optim::Optimizer& opt, int n, const Step& step, const std::string& option = "") {
  Trace t;
  const size_t groups = opt.param_groups().size();
  t.lr.resize(groups);
  t.option.resize(groups);
  auto snap = [&] {
    for (size_t g = 0; g < groups; ++g) {
      t.lr[g].push_back(opt.param_groups()[g].get("lr"));
      if (!option.empty()) t.option[g].push_back(opt.param_groups()[g].get(option));
    }
  };
  snap();
  for (int i = 0; i < n; ++i) {
    step(i);
    snap();
  }
  return t;
}

// OneCycleLR evaluates PyTorch's formulas in the same order, but the compiler may fuse a * b + c
// into one FMA (one rounding instead of two), so its values match to an ulp or two, not bits.
constexpr double kFmaRtol = 1e-14;

// rtol 0: bit-exact. Reports the first epoch that differs.
void expect_seq(const std::vector<double>& got, const std::vector<double>& want, double rtol,
                const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t e = 0; e < got.size(); ++e) {
    if (!(std::abs(got[e] - want[e]) <= rtol * std::abs(want[e]))) {
      ADD_FAILURE() << what << " differs from PyTorch at epoch " << e << ": "
                    << ::testing::PrintToString(got[e]) << " vs "
                    << ::testing::PrintToString(want[e]) << " (rtol " << rtol << ")";
      return;
    }
  }
}

std::vector<Tensor> one_param() {
  return {zeros({1}).requires_grad_()};
}

double plateau_metric(int i) {
  return i < 12 ? 1.0 / (1 + 0.1 * i) : 0.5 + 0.001 * (i % 3);
}

}  // namespace

TEST(OptimSchedulerParity, StepLR) {
  optim::SGD opt(one_param(), {.lr = 0.1});
  optim::StepLR s(opt, 7, 0.5);
  expect_seq(record(opt, 50, [&](int) { s.step(); }).lr[0], k_step_lr0, 0, "StepLR");
}

TEST(OptimSchedulerParity, StepLRAgainstLibtorch) {
  // libtorch's StepLR takes no initial step in its constructor (PyTorch's Python scheduler
  // does), so its lr after e + 1 step() calls is Python's (and Ember's) lr after e.
  optim::SGD opt(one_param(), {.lr = 0.1});
  optim::StepLR s(opt, 7, 0.5);
  torch::optim::SGD topt({torch::zeros({1}, torch::requires_grad())}, 0.1);
  torch::optim::StepLR ts(topt, 7, 0.5);
  for (int e = 0; e <= 50; ++e) {
    ts.step();
    const double tlr =
        static_cast<torch::optim::SGDOptions&>(topt.param_groups()[0].options()).lr();
    ASSERT_EQ(s.get_last_lr()[0], tlr) << "epoch " << e;
    ASSERT_EQ(opt.param_groups()[0].get("lr"), tlr) << "epoch " << e;
    s.step();
  }
}

TEST(OptimSchedulerParity, MultiStepLR) {
  optim::SGD opt(one_param(), {.lr = 0.1});
  optim::MultiStepLR s(opt, {5, 12, 12, 30}, 0.3);
  expect_seq(record(opt, 50, [&](int) { s.step(); }).lr[0], k_multistep_lr0, 0, "MultiStepLR");
}

TEST(OptimSchedulerParity, ExponentialLR) {
  optim::SGD opt(one_param(), {.lr = 0.1});
  optim::ExponentialLR s(opt, 0.93);
  expect_seq(record(opt, 50, [&](int) { s.step(); }).lr[0], k_exponential_lr0, 0, "ExponentialLR");
}

TEST(OptimSchedulerParity, CosineAnnealingLR) {
  // Ember uses PyTorch's closed form; PyTorch's step() uses the equivalent chainable form, so the
  // two agree to rounding.
  optim::SGD opt(one_param(), {.lr = 0.1});
  optim::CosineAnnealingLR s(opt, 20, 0.001);
  expect_seq(record(opt, 50, [&](int) { s.step(); }).lr[0], k_cosine_lr0, 1e-12,
             "CosineAnnealingLR");
}

TEST(OptimSchedulerParity, CosineAnnealingWarmupIsSequentialLinearCosine) {
  optim::SGD opt(one_param(), {.lr = 0.1});
  optim::CosineAnnealingWarmup s(opt, 10, 40, 0.002, 0.1);
  expect_seq(record(opt, 40, [&](int) { s.step(); }).lr[0], k_warmup_lr0, 1e-12,
             "CosineAnnealingWarmup");
}

TEST(OptimSchedulerParity, OneCycleCosTwoGroupsCyclesMomentum) {
  std::vector<optim::ParamGroup> groups = {{.params = one_param()},
                                           {.params = one_param(), .lr = 0.02}};
  optim::SGD opt(groups, {.lr = 0.1, .momentum = 0.9});
  optim::OneCycleLR s(opt, std::vector<double>{0.5, 0.2}, 50);
  const Trace t = record(
      opt, 50, [&](int) { s.step(); }, "momentum");
  expect_seq(t.lr[0], k_onecycle_cos_lr0, kFmaRtol, "OneCycleLR group 0 lr");
  expect_seq(t.lr[1], k_onecycle_cos_lr1, kFmaRtol, "OneCycleLR group 1 lr");
  expect_seq(t.option[0], k_onecycle_cos_momentum0, kFmaRtol, "OneCycleLR group 0 momentum");
  expect_seq(t.option[1], k_onecycle_cos_momentum1, kFmaRtol, "OneCycleLR group 1 momentum");
  EXPECT_THROW(s.step(), ValueError);  // past total_steps
}

TEST(OptimSchedulerParity, OneCycleLinearThreePhaseCyclesAdamBeta1) {
  optim::Adam opt(one_param(), {.lr = 0.1});
  optim::OneCycleLR s(opt, 0.4, 50,
                      {.pct_start = 0.25,
                       .anneal_strategy = optim::AnnealStrategy::Linear,
                       .div_factor = 10.0,
                       .final_div_factor = 100.0,
                       .three_phase = true});
  const Trace t = record(
      opt, 50, [&](int) { s.step(); }, "beta1");
  expect_seq(t.lr[0], k_onecycle_linear3_lr0, kFmaRtol, "OneCycleLR three-phase lr");
  expect_seq(t.option[0], k_onecycle_linear3_momentum0, kFmaRtol, "OneCycleLR three-phase beta1");
}

TEST(OptimSchedulerParity, ReduceLROnPlateauMinRel) {
  optim::SGD opt(one_param(), {.lr = 0.1});
  optim::ReduceLROnPlateau s(opt, {.mode = optim::PlateauMode::Min,
                                   .factor = 0.5,
                                   .patience = 2,
                                   .threshold = 1e-2,
                                   .threshold_mode = optim::ThresholdMode::Rel,
                                   .cooldown = 1,
                                   .min_lr = 0.01});
  expect_seq(record(opt, 50, [&](int i) { s.step(plateau_metric(i)); }).lr[0],
             k_plateau_min_rel_lr0, 0, "ReduceLROnPlateau min/rel");
}

TEST(OptimSchedulerParity, ReduceLROnPlateauMaxAbs) {
  optim::SGD opt(one_param(), {.lr = 0.1});
  optim::ReduceLROnPlateau s(opt, {.mode = optim::PlateauMode::Max,
                                   .factor = 0.3,
                                   .patience = 1,
                                   .threshold = 0.05,
                                   .threshold_mode = optim::ThresholdMode::Abs,
                                   .cooldown = 0,
                                   .min_lr = 0.0});
  expect_seq(record(opt, 50, [&](int i) { s.step(-plateau_metric(i)); }).lr[0],
             k_plateau_max_abs_lr0, 0, "ReduceLROnPlateau max/abs");
}
