# Prints the side-by-side table from RESULT lines: each implementation at its best thread setting
# (the same rule for all three, which also filters out noise on a shared machine), with ratios
# (> 1 means Ember is faster) and GFLOP/s.
import collections
import os
import re
import sys

FLOPS = {}
for case in ["matmul_1024x1024x1024", "matmul_4096x768x768"]:
    n, k, m = map(int, re.findall(r"\d+", case))
    FLOPS[case] = 2.0 * n * k * m


IMAGES = {"cnn_train_step_b64": 64, "cnn_infer_1": 1, "cnn_infer_256": 256}


def peak_gflops(path):
    # The best measured FMA-only throughput over all runs (see measured_peak_gflops()).
    return max(float(line.split("\t")[1]) for line in open(path))


def main(path, peak_path):
    times = collections.defaultdict(dict)  # (case, impl) -> {setting: seconds}
    for line in open(path):
        _, case, impl, seconds, setting = line.rstrip("\n").split("\t")
        times[(case, impl)][setting] = float(seconds)
    cases = sorted({c for c, _ in times}, key=lambda c: (not c.startswith("matmul"), c))
    peak = peak_gflops(peak_path)
    print(f"machine: {os.cpu_count()} cores, measured float32 FMA peak {peak:.0f} GFLOP/s")
    print(f"{'case':24} {'ember':>11} {'libtorch':>11} {'pytorch':>11} {'vs libtorch':>12} {'vs pytorch':>11}  best setting of each")
    for case in cases:
        rivals = {}
        for impl in ["ember", "libtorch", "pytorch"]:
            t = times.get((case, impl), {})
            if t:
                s = min(t, key=t.get)
                rivals[impl] = (t[s], s)
        e = rivals.pop("ember", (None, None))[0]
        def fmt(sec):
            if sec is None:
                return "-"
            if case in FLOPS:
                return f"{FLOPS[case] / sec * 1e-9:7.1f} GF/s"
            if case in IMAGES:
                return f"{IMAGES[case] / sec:7.0f} im/s"
            return f"{sec * 1e6:8.2f} us" if sec < 1e-3 else f"{sec * 1e3:8.3f} ms"
        line = f"{case:24} {fmt(e):>11} {fmt(rivals.get('libtorch', (None,))[0]):>11} {fmt(rivals.get('pytorch', (None,))[0]):>11}"
        for impl in ["libtorch", "pytorch"]:
            if impl in rivals and e:
                line += f" {rivals[impl][0] / e:>10.2f}x"
            else:
                line += f" {'-':>10} "
        ember_setting = min(times[(case, "ember")], key=times[(case, "ember")].get)
        line += f"  ember: {ember_setting}, " + ", ".join(f"{k}: {v[1]}" for k, v in rivals.items())
        if case in FLOPS and e:
            line += f"  (ember at {FLOPS[case] / e * 1e-9 / peak:.0%} of peak)"
        print(line)
    print("ratios are rival time / ember time: above 1 means Ember is faster")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
