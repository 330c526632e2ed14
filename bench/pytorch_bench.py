# PyTorch side of the side-by-side benchmarks: the same cases as bench/side_by_side.cpp, timed with
# timeit (best of several repeats); prints "RESULT<TAB>case<TAB>pytorch<TAB>seconds" lines.
import sys
import timeit

import torch

torch.set_num_threads(2)
torch.manual_seed(0)


def best(fn, number, repeat=5):
    fn()  # warm up
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number


def report(case, seconds):
    print(f"RESULT\t{case}\tpytorch\t{seconds:.9g}", file=sys.stderr, flush=True)


def mlp():
    return torch.nn.Sequential(
        torch.nn.Linear(784, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, 128), torch.nn.ReLU(),
        torch.nn.Linear(128, 10))


def main():
    for n, k, m in [(1024, 1024, 1024), (4096, 768, 768)]:
        a, b = torch.randn(n, k), torch.randn(k, m)
        report(f"matmul_{n}x{k}x{m}", best(lambda: torch.matmul(a, b), 10))

    a, b = torch.ones(1), torch.ones(1)
    report("add_1elem", best(lambda: a + b, 100000))

    model = mlp()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = torch.randn(128, 784), torch.randint(0, 10, (128,))

    def step():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    report("mlp_train_step_b128", best(step, 50))

    x1 = torch.randn(1, 784)

    def infer():
        with torch.no_grad():
            return model(x1)

    report("mlp_infer_1", best(infer, 2000))

    cnn = torch.nn.Sequential(
        torch.nn.Conv2d(1, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(32, 64, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(3136, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    copt = torch.optim.Adam(cnn.parameters(), lr=1e-3)
    xc, yc = torch.randn(64, 1, 28, 28), torch.randint(0, 10, (64,))

    def cnn_step():
        copt.zero_grad()
        loss = torch.nn.functional.cross_entropy(cnn(xc), yc)
        loss.backward()
        copt.step()

    report("cnn_train_step_b64", best(cnn_step, 20))
    cnn.eval()
    for batch, number in [(1, 500), (256, 5)]:
        xi = torch.randn(batch, 1, 28, 28)

        def cnn_infer():
            with torch.no_grad():
                return cnn(xi)

        report(f"cnn_infer_{batch}", best(cnn_infer, number))


if __name__ == "__main__":
    main()
