"""PyTorch PPO on MinAtar Breakout: the reference side of `npm run bench -- ppo-vs-torch`.

A CleanRL-style PPO in one file (the algorithm of CleanRL's ppo.py: clipped surrogate, GAE,
advantages normalised per minibatch, clipped value loss, orthogonal init with gain sqrt(2) on the
hidden layers, 0.01 on the policy head and 1 on the value head, Adam eps 1e-5, optional linear lr
annealing, global grad-norm clip) with the MinAtar CNN of npcforge's `minatar-cnn` encoder (conv 16
3x3 valid + relu -> dense 128 + relu -> heads) over N copies of bench/py/minatar_breakout.py
(sticky actions 0.1, the minimal actions n, l, r), stepped one after the other in this one process.

The bench passes npcforge's resolved PPO settings, so both sides train with the same numbers.
PyTorch runs at its best on one thread: torch.set_num_threads(1), denormals flushed.

Prints JSON lines on stdout: {"kind": "progress", ...} every --log-every frames and one
{"kind": "done", "frames", "trainWallS", "trainFps", "meanReturn100", "episodes", "processCpuS", ...}
at the end (processCpuS: the whole process's CPU seconds, imports included, as the bench measures npcforge's).
Exit code 3 when torch cannot be imported (the bench then says how to install it).
Run: /usr/bin/python3 bench/py/ppo_torch.py --frames 200704 --envs 8 --num-steps 128
"""
import argparse
import json
import math
import os
import resource
import sys
import time
from collections import deque

import numpy as np

# One thread, passive OpenMP workers: set before torch loads (see bench/torch_reference.py).
os.environ["OMP_NUM_THREADS"] = "1"
os.environ["OPENBLAS_NUM_THREADS"] = "1"
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

try:
    import torch
    import torch.nn as nn
except ImportError as err:
    print(f"torch not importable: {err}", file=sys.stderr)
    sys.exit(3)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from minatar_breakout import MINIMAL_ACTIONS, BreakoutEnv  # noqa: E402


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--frames", type=int, default=200_704, help="env steps over all envs (rounded up to whole rollouts)")
    p.add_argument("--seed", type=int, default=0, help="seed of weights, sampling and the envs (env i: seed + i)")
    p.add_argument("--envs", type=int, default=8, help="envs stepped in turn, in this process")
    p.add_argument("--num-steps", type=int, default=128, help="steps per env in one rollout")
    p.add_argument("--epochs", type=int, default=4, help="passes over each rollout")
    p.add_argument("--minibatches", type=int, default=4, help="minibatches per epoch")
    p.add_argument("--lr", type=float, default=2.5e-4, help="Adam learning rate")
    p.add_argument("--anneal-lr", type=int, default=1, help="1: anneal the lr linearly to 0 over the run")
    p.add_argument("--adam-eps", type=float, default=1e-5, help="Adam epsilon")
    p.add_argument("--gamma", type=float, default=0.99, help="discount")
    p.add_argument("--gae-lambda", type=float, default=0.95, help="GAE lambda")
    p.add_argument("--clip", type=float, default=0.2, help="surrogate clip range")
    p.add_argument("--value-clip", type=float, default=0.2, help="value clip range; <= 0 for the plain value loss")
    p.add_argument("--ent-coef", type=float, default=0.01, help="entropy bonus coefficient")
    p.add_argument("--vf-coef", type=float, default=0.5, help="value loss coefficient")
    p.add_argument("--max-grad-norm", type=float, default=0.5, help="global grad-norm clip; 0 disables")
    p.add_argument("--norm-adv", type=int, default=1, help="1: normalise advantages per minibatch")
    p.add_argument("--sticky", type=float, default=0.1, help="MinAtar sticky-action probability")
    p.add_argument("--log-every", type=int, default=25_000, help="frames between progress lines")
    return p.parse_args()


def layer_init(layer, gain):
    """CleanRL's init: orthogonal weights with the given gain, zero bias."""
    nn.init.orthogonal_(layer.weight, gain)
    nn.init.constant_(layer.bias, 0.0)
    return layer


class Agent(nn.Module):
    """Shared MinAtar CNN trunk, a policy head and a value head."""

    def __init__(self, channels, actions):
        super().__init__()
        hidden = math.sqrt(2)
        self.trunk = nn.Sequential(
            layer_init(nn.Conv2d(channels, 16, 3), hidden),
            nn.ReLU(),
            nn.Flatten(),
            layer_init(nn.Linear(16 * 8 * 8, 128), hidden),
            nn.ReLU(),
        )
        self.actor = layer_init(nn.Linear(128, actions), 0.01)
        self.critic = layer_init(nn.Linear(128, 1), 1.0)

    def value(self, x):
        return self.critic(self.trunk(x)).squeeze(-1)

    def act_and_value(self, x, action=None):
        h = self.trunk(x)
        dist = torch.distributions.Categorical(logits=self.actor(h))
        if action is None:
            action = dist.sample()
        return action, dist.log_prob(action), dist.entropy(), self.critic(h).squeeze(-1)


class VectorBreakout:
    """N Breakout envs stepped one after the other; an ended episode resets at once (its return is kept)."""

    def __init__(self, n, seed, sticky):
        self.envs = []
        for i in range(n):
            e = BreakoutEnv(sticky)
            e.seed(seed + i)
            e.reset()
            self.envs.append(e)
        self.returns = np.zeros(n)
        self.finished = []

    def observe(self):
        # (N, 10, 10, C) bool -> (N, C, 10, 10) float, the layout of torch's conv.
        return np.stack([e.state() for e in self.envs]).transpose(0, 3, 1, 2).astype(np.float32)

    def step(self, actions):
        rewards = np.zeros(len(self.envs), dtype=np.float32)
        dones = np.zeros(len(self.envs), dtype=np.float32)
        for i, (e, a) in enumerate(zip(self.envs, actions)):
            r, terminal = e.act(MINIMAL_ACTIONS[a])
            rewards[i] = r
            self.returns[i] += r
            if terminal:
                # MinAtar never truncates: a terminal step does not bootstrap.
                dones[i] = 1.0
                self.finished.append(self.returns[i])
                self.returns[i] = 0.0
                e.reset()
        return self.observe(), rewards, dones


def main():
    args = parse_args()
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    torch.set_flush_denormal(True)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)

    n, steps = args.envs, args.num_steps
    batch = n * steps
    minibatch = batch // args.minibatches
    iterations = -(-args.frames // batch)
    envs = VectorBreakout(n, args.seed, args.sticky)
    agent = Agent(4, len(MINIMAL_ACTIONS))
    optimizer = torch.optim.Adam(agent.parameters(), lr=args.lr, eps=args.adam_eps)

    obs_buf = torch.zeros((steps, n, 4, 10, 10))
    actions_buf = torch.zeros((steps, n), dtype=torch.long)
    logprobs_buf = torch.zeros((steps, n))
    rewards_buf = torch.zeros((steps, n))
    dones_buf = torch.zeros((steps, n))
    values_buf = torch.zeros((steps, n))

    recent = deque(maxlen=100)
    frames = 0
    next_log = args.log_every
    t0 = time.perf_counter()
    next_obs = torch.from_numpy(envs.observe())
    next_done = torch.zeros(n)

    def line(kind, **extra):
        wall = time.perf_counter() - t0
        out = {"kind": kind, "frames": frames, "trainWallS": wall, "trainFps": frames / wall, "episodes": len(envs.finished),
               "meanReturn100": float(np.mean(recent)) if recent else None, **extra}
        print(json.dumps(out), flush=True)

    for iteration in range(1, iterations + 1):
        if args.anneal_lr:
            optimizer.param_groups[0]["lr"] = (1.0 - (iteration - 1.0) / iterations) * args.lr
        for step in range(steps):
            obs_buf[step] = next_obs
            dones_buf[step] = next_done
            with torch.no_grad():
                action, logprob, _, value = agent.act_and_value(next_obs)
            values_buf[step] = value
            actions_buf[step] = action
            logprobs_buf[step] = logprob
            o, r, d = envs.step(action.numpy())
            for ret in envs.finished[len(envs.finished) - int(d.sum()):]:
                recent.append(ret)
            rewards_buf[step] = torch.from_numpy(r)
            next_obs, next_done = torch.from_numpy(o), torch.from_numpy(d)
            frames += n
            if frames >= next_log:
                line("progress")
                next_log += args.log_every

        # GAE over the rollout; dones_buf[t] marks that obs t starts a new episode.
        with torch.no_grad():
            next_value = agent.value(next_obs)
            advantages = torch.zeros_like(rewards_buf)
            last_gae_lam = torch.zeros(n)
            for t in reversed(range(steps)):
                if t == steps - 1:
                    next_non_terminal, next_values = 1.0 - next_done, next_value
                else:
                    next_non_terminal, next_values = 1.0 - dones_buf[t + 1], values_buf[t + 1]
                delta = rewards_buf[t] + args.gamma * next_values * next_non_terminal - values_buf[t]
                last_gae_lam = delta + args.gamma * args.gae_lambda * next_non_terminal * last_gae_lam
                advantages[t] = last_gae_lam
            returns = advantages + values_buf

        b_obs = obs_buf.reshape((-1, 4, 10, 10))
        b_actions = actions_buf.reshape(-1)
        b_logprobs = logprobs_buf.reshape(-1)
        b_advantages = advantages.reshape(-1)
        b_returns = returns.reshape(-1)
        b_values = values_buf.reshape(-1)
        for _ in range(args.epochs):
            perm = torch.randperm(batch)
            for start in range(0, batch, minibatch):
                mb = perm[start:start + minibatch]
                _, new_logprob, entropy, new_value = agent.act_and_value(b_obs[mb], b_actions[mb])
                ratio = (new_logprob - b_logprobs[mb]).exp()
                mb_adv = b_advantages[mb]
                if args.norm_adv:
                    mb_adv = (mb_adv - mb_adv.mean()) / (mb_adv.std() + 1e-8)
                pg_loss = torch.max(-mb_adv * ratio, -mb_adv * ratio.clamp(1 - args.clip, 1 + args.clip)).mean()
                if args.value_clip > 0:
                    v_unclipped = (new_value - b_returns[mb]) ** 2
                    v_clipped = b_values[mb] + (new_value - b_values[mb]).clamp(-args.value_clip, args.value_clip)
                    v_loss = 0.5 * torch.max(v_unclipped, (v_clipped - b_returns[mb]) ** 2).mean()
                else:
                    v_loss = 0.5 * ((new_value - b_returns[mb]) ** 2).mean()
                loss = pg_loss - args.ent_coef * entropy.mean() + args.vf_coef * v_loss
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if args.max_grad_norm > 0:
                    nn.utils.clip_grad_norm_(agent.parameters(), args.max_grad_norm)
                optimizer.step()

    usage = resource.getrusage(resource.RUSAGE_SELF)
    line("done", processCpuS=usage.ru_utime + usage.ru_stime, updates=iterations, threads=torch.get_num_threads(), torch=torch.__version__, flushDenormal=True,
         config={k: getattr(args, k) for k in vars(args)})


if __name__ == "__main__":
    main()
