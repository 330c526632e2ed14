# PyTorch side of bench/cnn_epoch.cpp: one epoch of the Fashion-MNIST CNN (batch 128, Adam 1e-3)
# through torch.utils.data.DataLoader on the 60,000 training images; prints "EPOCH\tpytorch\ts".
import gzip
import sys
import time

import numpy as np
import torch

torch.set_num_threads(2)
torch.manual_seed(0)
with gzip.open(f"{sys.argv[1]}/train-images-idx3-ubyte.gz") as f:
    images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)
with gzip.open(f"{sys.argv[1]}/train-labels-idx1-ubyte.gz") as f:
    labels = np.frombuffer(f.read(), np.uint8, offset=8)
x = (torch.tensor(images, dtype=torch.float32) / 255.0 - 0.2860) / 0.3530
y = torch.tensor(labels, dtype=torch.int64)
loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=128,
                                     shuffle=True)
for rep in range(2):
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(32, 64, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(3136, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    t0 = time.perf_counter()
    for xb, yb in loader:
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(xb), yb).backward()
        opt.step()
    print(f"EPOCH\tpytorch\t{time.perf_counter() - t0:.3f}", flush=True)
