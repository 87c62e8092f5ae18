"""MinAtar Breakout in numpy, for the PyTorch PPO reference (bench/py/ppo_torch.py).

Written from the behavioural spec (shared specs/minatar.md, sections 1 and 3), not from the
original's source, in the original's style (numpy brick map, a fresh bool state tensor per call) so
that its step costs about what the original's does. Randomness is numpy's legacy RandomState, the
generator the original uses: one stream, seeded once, shared by the sticky-action draw and the
game's reset draw, so a seed means the same game as in the original and in npcforge.

Run as a script to replay the recorded golden traces:
  python3 bench/py/minatar_breakout.py --check test/fixtures/golden/minatar
prints one JSON object ({"ok": true, "traces": [...]}) and exits 1 at the first mismatch.
"""
import argparse
import glob
import json
import os
import sys

import numpy as np

# Full MinAtar action ids: n, l, u, r, d, f. Breakout only reads l and r.
ACTION_LEFT = 1
ACTION_RIGHT = 3
MINIMAL_ACTIONS = (0, 1, 3)
CHANNELS = ("paddle", "ball", "trail", "brick")

# Directions 0 up-left, 1 up-right, 2 down-right, 3 down-left (spec 3.1).
DX = (-1, 1, 1, -1)
DY = (-1, -1, 1, 1)
H_FLIP = (1, 0, 3, 2)
V_FLIP = (3, 2, 1, 0)
REVERSE = (2, 3, 0, 1)


class Breakout:
    """The game rules alone (spec 3): no sticky actions; `rng` is the RandomState it draws from at reset."""

    def __init__(self, rng):
        self.rng = rng
        self.reset()

    def reset(self):
        # One draw picks the start side (spec 3.2).
        side = self.rng.randint(0, 2)
        if side == 0:
            self.force_start(0, 3, 2)
        else:
            self.force_start(9, 3, 3)
        self.paddle = 4
        self.bricks = np.zeros((10, 10), dtype=bool)
        self.bricks[1:4, :] = True
        self.strike = False
        self.terminal = False

    def force_start(self, x, y, direction):
        """Sets the ball as reset would (the golden traces' forced starts)."""
        self.ball_x, self.ball_y, self.ball_dir = x, y, direction
        self.last_x, self.last_y = x, y

    def step(self, a):
        """Advances one step with full action id `a`; returns the reward."""
        if self.terminal:
            return 0
        reward = 0
        if a == ACTION_LEFT:
            self.paddle = max(0, self.paddle - 1)
        elif a == ACTION_RIGHT:
            self.paddle = min(9, self.paddle + 1)
        self.last_x, self.last_y = self.ball_x, self.ball_y
        nx = self.ball_x + DX[self.ball_dir]
        ny = self.ball_y + DY[self.ball_dir]
        strike_toggle = False
        # Side walls clamp x only, so next to a wall the ball goes straight up or down this step.
        if nx < 0 or nx > 9:
            nx = min(9, max(0, nx))
            self.ball_dir = H_FLIP[self.ball_dir]
        if ny < 0:
            ny = 0
            self.ball_dir = V_FLIP[self.ball_dir]
        elif self.bricks[ny, nx]:
            strike_toggle = True
            # QUIRK (spec 3.3.4b): right after a strike the ball enters the brick cell unharmed.
            if not self.strike:
                reward += 1
                self.strike = True
                self.bricks[ny, nx] = False
                ny = self.last_y
                self.ball_dir = V_FLIP[self.ball_dir]
        elif ny == 9:
            # The refill happens before the paddle test, even on the step that ends the game.
            if not self.bricks.any():
                self.bricks[1:4, :] = True
            if self.last_x == self.paddle:
                self.ball_dir = V_FLIP[self.ball_dir]
                ny = self.last_y
            elif nx == self.paddle:
                self.ball_dir = REVERSE[self.ball_dir]
                ny = self.last_y
            else:
                self.terminal = True
        if not strike_toggle:
            self.strike = False
        self.ball_x, self.ball_y = nx, ny
        return reward

    def state(self):
        """A new (10, 10, 4) bool observation, obs[row][col][channel] (spec 3.4)."""
        s = np.zeros((10, 10, 4), dtype=bool)
        s[9, self.paddle, 0] = True
        s[self.ball_y, self.ball_x, 1] = True
        s[self.last_y, self.last_x, 2] = True
        s[:, :, 3] = self.bricks
        return s


class BreakoutEnv:
    """The MinAtar wrapper (spec 1.2): sticky actions drawn from the game's own stream on every act."""

    def __init__(self, sticky_action_prob=0.1, seed=None):
        self.sticky_action_prob = sticky_action_prob
        self.rng = np.random.RandomState(seed)
        self.game = Breakout(self.rng)
        # Not reset by reset(): the first action of an episode may repeat the previous episode's last.
        self.last_action = 0

    def seed(self, seed):
        """One RandomState shared by the sticky draw and the game, as the original's seed()."""
        self.rng = np.random.RandomState(seed)
        self.game.rng = self.rng

    def reset(self):
        self.game.reset()

    def act(self, a):
        """Full action id in, (reward, terminal) out; the sticky draw happens even when p = 0."""
        if self.rng.rand() < self.sticky_action_prob:
            a = self.last_action
        self.last_action = a
        return self.game.step(a), self.game.terminal

    def state(self):
        return self.game.state()


def compare(got, want, where):
    """Raises AssertionError naming the first cell where observation `got` differs from the trace's `want`."""
    want = np.asarray(want, dtype=bool)
    if got.shape != want.shape:
        raise AssertionError(f"{where}: obs shape {got.shape}, expected {want.shape}")
    diff = np.argwhere(got != want)
    if len(diff):
        r, c, ch = diff[0]
        raise AssertionError(f"{where}: obs first differs at row {r}, col {c}, channel {ch} ({CHANNELS[ch]}): expected {int(want[r, c, ch])}, got {int(got[r, c, ch])}")


def replay(trace):
    """Replays one breakout trace (golden README: deterministic with a forced start, or rng_replay); returns its step count."""
    if list(trace["channels"]) != list(CHANNELS):
        raise AssertionError(f"channels {trace['channels']}, expected {list(CHANNELS)}")
    if trace["kind"] == "deterministic":
        game = Breakout(np.random.RandomState(0))
        d0 = trace["steps"][0].get("debug", {})
        game.force_start(d0["ball_x"], d0["ball_y"], d0["ball_dir"])
        last = [None]

        def act(a):
            last[0] = a
            return game.step(a), game.terminal

        state = game.state
        applied = lambda: last[0]
    elif trace["kind"] == "rng_replay":
        env = BreakoutEnv(trace["sticky_action_prob"])
        env.seed(trace["rng"]["seed"])
        env.reset()
        act, state, applied = env.act, env.state, lambda: env.last_action
    else:
        raise AssertionError(f"unknown trace kind {trace['kind']!r}")
    compare(state(), trace["steps"][0]["obs"], "step 0 (after reset)")
    total = 0
    for k, step in enumerate(trace["steps"][1:], start=1):
        action = step.get("action", trace["actions"][k - 1])
        reward, terminal = act(action)
        total += reward
        where = f"step {step['t']}"
        if "applied_action" in step and applied() != step["applied_action"]:
            raise AssertionError(f"{where}: applied_action {applied()}, expected {step['applied_action']}")
        if reward != step["reward"]:
            raise AssertionError(f"{where}: reward {reward}, expected {step['reward']}")
        if terminal != step["terminal"]:
            raise AssertionError(f"{where}: terminal {terminal}, expected {step['terminal']}")
        compare(state(), step["obs"], where)
    if "total_reward" in trace and total != trace["total_reward"]:
        raise AssertionError(f"total_reward {total}, expected {trace['total_reward']}")
    if trace["kind"] == "rng_replay":
        check_draws(trace["rng"], env.rng)
    return len(trace["steps"]) - 1


def check_draws(recorded, used):
    """The recorded draws, made on a fresh stream, give the recorded results and leave it where the replay left ours."""
    ref = np.random.RandomState(recorded["seed"])
    for i, call in enumerate(recorded["calls"]):
        got = ref.rand() if call["fn"] == "rand" else ref.randint(*call["args"])
        if got != call["result"]:
            raise AssertionError(f"rng call {i} ({call['purpose']}): {got}, expected {call['result']}")
    a, b = ref.get_state(), used.get_state()
    if a[2] != b[2] or not np.array_equal(a[1], b[1]):
        raise AssertionError(f"rng: the replay made a different number of draws than the {len(recorded['calls'])} recorded")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--check", required=True, metavar="DIR", help="folder of golden traces; every breakout trace in it is replayed")
    args = p.parse_args()
    results = []
    for path in sorted(glob.glob(os.path.join(args.check, "*.json"))):
        with open(path) as f:
            trace = json.load(f)
        if trace.get("game") != "breakout":
            continue
        name = os.path.basename(path)
        try:
            steps = replay(trace)
        except (AssertionError, KeyError) as err:
            print(json.dumps({"ok": False, "trace": name, "error": str(err), "traces": results}))
            return 1
        results.append({"trace": name, "kind": trace["kind"], "steps": steps})
    if not results:
        print(json.dumps({"ok": False, "error": f"no breakout trace in {args.check}", "traces": []}))
        return 1
    print(json.dumps({"ok": True, "traces": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
