"""PyTorch CPU reference for bench/sac.ts: one SAC update of the sizes given on the command line.

The update follows CleanRL's `sac_continuous_action.py`: an actor (MLP -> mean and tanh-bounded
log-std, tanh-squashed Gaussian scaled onto the action bounds), two Q networks on concat(obs,
action) with one Adam over both, two target networks moved by Polyak averaging every update,
automatic entropy tuning of log(alpha) with its own Adam. Per update: critic step, actor step,
alpha step, target update, as the npcforge agent does (CleanRL's policy_frequency 2 makes two actor
steps every second update: the same work per update on average).

Run at its best for a fair comparison: torch.set_num_threads to the cores (or --threads),
flush-denormal on, no autograd where nothing is trained (targets, act), the alpha loss reusing the
actor step's log-probabilities detached (what our agent does; CleanRL runs one more actor forward
there), replay in preallocated tensors. Timing protocol as bench/harness.ts `measureRate`: one
warm-up period, then `--repeats` periods of `--seconds` each, updates per second of each.

Prints one JSON object on stdout:
  {"torch", "threads", "blas", "ompWaitPolicy", "updatesPerSec": [...], "cpuMsPerUpdate": [...], "actMs"}
Exits with status 3 and a one-line message on stderr when torch cannot be imported.
Optional: nothing in npcforge needs Python. Run: /usr/bin/python3 bench/torch_sac_reference.py --help
"""
import argparse
import json
import math
import os
import statistics
import sys
import time


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--obs", type=int, required=True)
    p.add_argument("--act", type=int, required=True)
    p.add_argument("--low", required=True, help="action lower bounds, one per dim, comma-separated")
    p.add_argument("--high", required=True, help="action upper bounds, one per dim, comma-separated")
    p.add_argument("--hidden", required=True, help="comma-separated widths, e.g. 256,256")
    p.add_argument("--batch", type=int, required=True)
    p.add_argument("--gamma", type=float, required=True)
    p.add_argument("--tau", type=float, required=True)
    p.add_argument("--critic-lr", type=float, required=True)
    p.add_argument("--actor-lr", type=float, required=True)
    p.add_argument("--alpha-lr", type=float, required=True)
    p.add_argument("--replay", type=int, required=True, help="transitions in the replay memory")
    p.add_argument("--threads", type=int, default=0, help="0 = every core")
    p.add_argument("--seconds", type=float, default=2.0)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--act-calls", type=int, default=200)
    return p.parse_args()


ARGS = parse_args()
THREADS = ARGS.threads if ARGS.threads > 0 else (os.cpu_count() or 1)
# Thread settings must be in the environment before torch loads. One pool size for OpenMP and
# OpenBLAS: two pools of the core count oversubscribe the cores. Passive OpenMP workers: on this
# shared 2-core machine, spinning workers made 2-thread updates 10-40x slower than 1 thread
# (measured under load 3-5); OMP_WAIT_POLICY=ACTIVE in the environment restores spinning.
os.environ["OMP_NUM_THREADS"] = str(THREADS)
os.environ["OPENBLAS_NUM_THREADS"] = str(THREADS)
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError as err:  # the bench prints how to install it and goes on without this column
    print(f"torch not importable: {err}", file=sys.stderr)
    sys.exit(3)

from torch_blas import blas  # noqa: E402 (after the torch check)


# CleanRL's log-std bounds (also src/agents/sac/sac-agent.ts LOG_STD_MIN / LOG_STD_MAX).
LOG_STD_MIN = -5.0
LOG_STD_MAX = 2.0


def mlp(sizes):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class Critic(nn.Module):
    def __init__(self, obs, act, hidden):
        super().__init__()
        self.net = mlp([obs + act, *hidden, 1])

    def forward(self, x, a):
        return self.net(torch.cat([x, a], 1)).squeeze(1)


class Actor(nn.Module):
    def __init__(self, obs, act, hidden, low, high):
        super().__init__()
        self.body = mlp([obs, *hidden])
        self.body.append(nn.ReLU())
        self.mean = nn.Linear(hidden[-1], act)
        self.log_std = nn.Linear(hidden[-1], act)
        self.register_buffer("scale", (high - low) / 2)
        self.register_buffer("bias", (high + low) / 2)

    def sample(self, x):
        """Reparameterised action on the bounds and its log-probability (tanh change of variables)."""
        h = self.body(x)
        mean = self.mean(h)
        log_std = LOG_STD_MIN + 0.5 * (LOG_STD_MAX - LOG_STD_MIN) * (torch.tanh(self.log_std(h)) + 1)
        std = log_std.exp()
        u = mean + std * torch.randn_like(mean)
        y = torch.tanh(u)
        # Normal log-density of u, minus log |d action / d u| (the 1e-6 as CleanRL).
        log_prob = -0.5 * ((u - mean) / std) ** 2 - log_std - 0.5 * math.log(2 * math.pi)
        log_prob = log_prob - torch.log(self.scale * (1 - y.pow(2)) + 1e-6)
        return y * self.scale + self.bias, log_prob.sum(1)


def main():
    args = ARGS
    torch.set_num_threads(THREADS)
    torch.set_flush_denormal(True)
    torch.manual_seed(1)
    hidden = [int(h) for h in args.hidden.split(",")]
    obs, act, n = args.obs, args.act, args.replay
    low = torch.tensor([float(v) for v in args.low.split(",")])
    high = torch.tensor([float(v) for v in args.high.split(",")])
    assert low.shape == (act,) and high.shape == (act,), "--low and --high need one bound per action dim"

    actor = Actor(obs, act, hidden, low, high)
    q1, q2 = Critic(obs, act, hidden), Critic(obs, act, hidden)
    q1_target, q2_target = Critic(obs, act, hidden), Critic(obs, act, hidden)
    q1_target.load_state_dict(q1.state_dict())
    q2_target.load_state_dict(q2.state_dict())
    q_opt = torch.optim.Adam([*q1.parameters(), *q2.parameters()], lr=args.critic_lr)
    actor_opt = torch.optim.Adam(actor.parameters(), lr=args.actor_lr)
    log_alpha = torch.zeros(1, requires_grad=True)
    alpha_opt = torch.optim.Adam([log_alpha], lr=args.alpha_lr)
    target_entropy = -float(act)
    online = [*q1.parameters(), *q2.parameters()]
    targets = [*q1_target.parameters(), *q2_target.parameters()]
    for t in targets:
        t.requires_grad_(False)

    # Replay in preallocated tensors, values in pendulum-like ranges.
    r_obs = torch.rand(n, obs) * 2 - 1
    r_next = torch.rand(n, obs) * 2 - 1
    r_act = torch.rand(n, act) * (high - low) + low
    r_rew = -torch.rand(n) * 16
    r_term = (torch.rand(n) < 0.01).float()

    def update():
        idx = torch.randint(0, n, (args.batch,))
        x, nx, a, r, d = r_obs[idx], r_next[idx], r_act[idx], r_rew[idx], r_term[idx]
        alpha = log_alpha.detach().exp()
        with torch.no_grad():
            na, nlp = actor.sample(nx)
            soft = torch.min(q1_target(nx, na), q2_target(nx, na)) - alpha * nlp
            y = r + args.gamma * (1 - d) * soft
        q_loss = F.mse_loss(q1(x, a), y) + F.mse_loss(q2(x, a), y)
        q_opt.zero_grad(set_to_none=True)
        q_loss.backward()
        q_opt.step()

        pi, lp = actor.sample(x)
        actor_loss = (alpha * lp - torch.min(q1(x, pi), q2(x, pi))).mean()
        actor_opt.zero_grad(set_to_none=True)
        actor_loss.backward()
        actor_opt.step()

        alpha_loss = (-log_alpha.exp() * (lp.detach() + target_entropy)).mean()
        alpha_opt.zero_grad(set_to_none=True)
        alpha_loss.backward()
        alpha_opt.step()

        with torch.no_grad():
            torch._foreach_mul_(targets, 1 - args.tau)
            torch._foreach_add_(targets, online, alpha=args.tau)
        # Read the losses back, as our agent does after every update (and as a sync point).
        return q_loss.item() + actor_loss.item()

    def period():
        c0 = time.process_time()
        t0 = time.perf_counter()
        count = 0
        while True:
            update()
            count += 1
            elapsed = time.perf_counter() - t0
            if elapsed >= args.seconds:
                return count / elapsed, (time.process_time() - c0) * 1000 / count

    period()  # warm-up
    rates, cpu = [], []
    for _ in range(args.repeats):
        rate, cpu_ms = period()
        rates.append(rate)
        cpu.append(cpu_ms)

    one = torch.rand(1, obs) * 2 - 1
    walls = []
    with torch.no_grad():
        for i in range(args.act_calls + 20):
            t0 = time.perf_counter()
            action, _ = actor.sample(one)
            action.numpy()
            if i >= 20:  # the first calls are warm-up
                walls.append((time.perf_counter() - t0) * 1000)

    print(json.dumps({
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "blas": blas(),
        "ompWaitPolicy": os.environ["OMP_WAIT_POLICY"],
        "updatesPerSec": rates,
        "cpuMsPerUpdate": cpu,
        "actMs": statistics.median(walls),
    }))


if __name__ == "__main__":
    main()
