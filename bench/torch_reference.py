"""PyTorch CPU reference for bench/backend.ts: the same four networks, batch sizes, optimiser
(Adam) and loss (Huber on Q(s, a)) as bench/backend-nets.ts. Prints one JSON object on stdout:
{"torch": version, "threads": n, "flushDenormal": bool, "blas": name,
 "nets": {name: {"trainMs", "actMs", "trainCpuMs"}}} (medians, ms).

PyTorch at its best, so that the ratio against it is fair: denormals flushed to zero (a guard:
Adam's second moments of tiny gradients can decay into the denormal range, where x86 arithmetic is
many times slower; over this script's 30 steps from fresh weights the flush changed nothing
measurable, Nature step 1 thread 54-61 ms flushed vs 41-51 kept, under load 9), warm-up steps before
timing, the thread count the bench asks for (one pool size for OpenMP and OpenBLAS), and passive
OpenMP workers: on this shared 2-core machine under load 9-12, spinning workers made the 2-thread
Nature step 481-715 ms against 39 ms passive (OMP_WAIT_POLICY=ACTIVE in the environment restores
spinning). --keep-denormals measures the unflushed step.
Optional: nothing in npcforge needs Python. Run: /usr/bin/python3 bench/torch_reference.py
"""
import argparse
import json
import os
import statistics
import sys
import time


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=10, help="untimed steps first (allocator, caches, Adam state)")
    p.add_argument("--nets", default="minatar,nature,lstm,transformer")
    p.add_argument("--keep-denormals", action="store_true", help="do not flush denormals (to measure their cost)")
    return p.parse_args()


ARGS = parse_args()
# Thread settings must be in the environment before torch loads (see the module doc).
os.environ["OMP_NUM_THREADS"] = str(ARGS.threads)
os.environ["OPENBLAS_NUM_THREADS"] = str(ARGS.threads)
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError as err:  # bench/backend.ts reports the column as skipped with this line
    print(f"torch not importable: {err}", file=sys.stderr)
    sys.exit(3)

from torch_blas import blas  # noqa: E402 (after the torch check)

ACTIONS = 6


class MinAtarNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(4, 16, 3)
        self.fc = nn.Linear(16 * 8 * 8, 128)
        self.q = nn.Linear(128, ACTIONS)

    def forward(self, x):
        x = F.relu(self.conv(x))
        return self.q(F.relu(self.fc(x.flatten(1))))


class NatureNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(4, 32, 8, 4)
        self.c2 = nn.Conv2d(32, 64, 4, 2)
        self.c3 = nn.Conv2d(64, 64, 3, 1)
        self.fc = nn.Linear(3136, 512)
        self.q = nn.Linear(512, ACTIONS)

    def forward(self, x):
        x = F.relu(self.c3(F.relu(self.c2(F.relu(self.c1(x))))))
        return self.q(F.relu(self.fc(x.flatten(1))))


class LstmNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(32, 128, batch_first=True)
        self.q = nn.Linear(128, ACTIONS)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.q(out[:, -1])


class TransformerNet(nn.Module):
    def __init__(self, vocab=500, seq=32, d=64, heads=4, ffn=256):
        super().__init__()
        self.emb = nn.Embedding(vocab, d)
        self.pos = nn.Parameter(torch.zeros(seq, d))
        self.ln1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.o = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.f1 = nn.Linear(d, ffn)
        self.f2 = nn.Linear(ffn, d)
        self.q = nn.Linear(d, ACTIONS)
        self.heads = heads

    def forward(self, tokens):
        b, t = tokens.shape
        x = self.emb(tokens) + self.pos
        q, k, v = self.qkv(self.ln1(x)).chunk(3, dim=-1)
        split = lambda z: z.view(b, t, self.heads, -1).transpose(1, 2)
        q, k, v = split(q), split(k), split(v)
        att = torch.softmax(q @ k.transpose(-1, -2) / (q.shape[-1] ** 0.5), dim=-1)
        ctx = (att @ v).transpose(1, 2).reshape(b, t, -1)
        x = x + self.o(ctx)
        x = x + self.f2(F.relu(self.f1(self.ln2(x))))
        return self.q(x.mean(1))


def build(name):
    g = torch.Generator().manual_seed(1)
    if name == "minatar":
        return MinAtarNet(), torch.rand(32, 4, 10, 10, generator=g), torch.rand(1, 4, 10, 10, generator=g), 32
    if name == "nature":
        return NatureNet(), torch.rand(32, 4, 84, 84, generator=g), torch.rand(1, 4, 84, 84, generator=g), 32
    if name == "lstm":
        return LstmNet(), torch.rand(16, 16, 32, generator=g) * 2 - 1, torch.rand(1, 16, 32, generator=g) * 2 - 1, 16
    return TransformerNet(), torch.randint(0, 500, (32, 32), generator=g), torch.randint(0, 500, (1, 32), generator=g), 32


def median_ms(fn, steps, warmup):
    """Median wall ms and median process CPU ms (all threads) per call."""
    for _ in range(warmup):
        fn()
    walls, cpus = [], []
    for _ in range(steps):
        c0 = time.process_time()
        t0 = time.perf_counter()
        fn()
        walls.append((time.perf_counter() - t0) * 1000)
        cpus.append((time.process_time() - c0) * 1000)
    return statistics.median(walls), statistics.median(cpus)


def main():
    args = ARGS
    torch.set_num_threads(args.threads)
    flushed = torch.set_flush_denormal(not args.keep_denormals) and not args.keep_denormals
    torch.manual_seed(1)
    result = {"torch": torch.__version__, "threads": torch.get_num_threads(), "flushDenormal": flushed, "ompWaitPolicy": os.environ["OMP_WAIT_POLICY"], "nets": {}}
    for name in args.nets.split(","):
        net, x, x1, batch = build(name)
        opt = torch.optim.Adam(net.parameters(), lr=1e-4)
        actions = torch.randint(0, ACTIONS, (batch,))
        targets = torch.rand(batch) * 2 - 1

        def train():
            q = net(x).gather(1, actions[:, None]).squeeze(1)
            loss = F.huber_loss(q, targets)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            return loss.item()

        def act():
            with torch.no_grad():
                return int(net(x1).argmax(1).item())

        train_wall, train_cpu = median_ms(train, args.steps, args.warmup)
        act_wall, _ = median_ms(act, args.steps * 2, args.warmup)
        result["nets"][name] = {"trainMs": train_wall, "actMs": act_wall, "trainCpuMs": train_cpu}
    # blas() after the products ran: the library is mapped once torch first multiplies.
    result["blas"] = blas()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
