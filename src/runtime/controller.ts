/**
 * A game loop's driver of many NPCs sharing one policy: each NPC decides every `decisionPeriod`
 * frames (its first decision on the first tick after it joins or resets) and repeats its last
 * action in between; all NPCs deciding on the same frame go through ONE `actBatch` call.
 */
import { InvalidConfigError, formatError, describe } from '../errors.js';
import type { NpcState } from './npc-state.js';
import { MAX_DECISION_PERIOD, isDecisionPeriod } from './policy-file.js';
import type { Policy, PolicyAction, PolicyActOptions, PolicyObservation } from './policy.js';

export interface ControllerOptions extends PolicyActOptions {
  /** Frames per decision, k >= 1 (default: the bundle's `decisionPeriod`, else 1). */
  decisionPeriod?: number;
}

/** One NPC of a controller: its state and the action to apply on the current frame. */
export class ControlledNpc {
  /** Number given by the controller, unique within it (0, 1, 2, ... in order of `add()`). */
  readonly id: number;
  /** The NPC's frame stack and recurrent state. */
  readonly state: NpcState;
  /** The action to apply this frame: the latest decision (null until the first tick after `add()`). */
  action: PolicyAction | null = null;
  /** Frames until the next decision (0 = it decides on the next tick). */
  countdown = 0;

  constructor(id: number, state: NpcState) {
    this.id = id;
    this.state = state;
  }

  /** Starts a new episode for this NPC: clears its memory; it decides again on the next tick. */
  reset(): void {
    this.state.reset();
    this.action = null;
    this.countdown = 0;
  }
}

export class PolicyController {
  readonly policy: Policy;
  /** Frames per decision. */
  readonly decisionPeriod: number;
  /** Ticks so far. */
  frame = 0;
  private readonly members: ControlledNpc[] = [];
  private readonly actOptions: PolicyActOptions;
  private nextId = 0;
  private ticking = false;

  /** Made by `policy.controller(options)`. */
  constructor(policy: Policy, options: ControllerOptions = {}) {
    const { decisionPeriod, ...actOptions } = options;
    const k = decisionPeriod ?? policy.file.decisionPeriod ?? 1;
    if (!isDecisionPeriod(k)) throw new InvalidConfigError(formatError('policy.controller', `decisionPeriod an integer from 1 to ${MAX_DECISION_PERIOD} frames`, describe(k), 'pass e.g. { decisionPeriod: 4 } (act every 4th frame)'));
    this.policy = policy;
    this.decisionPeriod = k;
    this.actOptions = actOptions;
  }

  /** The NPCs, in order of `add()`. */
  get npcs(): readonly ControlledNpc[] {
    return this.members;
  }

  /** Adds an NPC (fresh state); it decides on the next tick. */
  add(): ControlledNpc {
    const npc = new ControlledNpc(this.nextId++, this.policy.createState());
    this.members.push(npc);
    return npc;
  }

  /** Removes an NPC and frees its state. */
  remove(npc: ControlledNpc): void {
    const i = this.members.indexOf(npc);
    if (i < 0) throw new InvalidConfigError(formatError('policy.controller', 'an NPC of this controller', npc instanceof ControlledNpc ? `NPC ${npc.id}, already removed or of another controller` : describe(npc), 'remove each NPC once, from the controller that added it'));
    this.members.splice(i, 1);
    npc.state.dispose();
  }

  /**
   * Advances one frame: the NPCs whose decision is due are observed (`observe(npc)`, called only
   * for them) and act in one `actBatch`; every other NPC keeps its last action. Returns the NPCs
   * that decided this frame. Await it before the next tick.
   */
  async tick(observe: (npc: ControlledNpc) => PolicyObservation): Promise<ControlledNpc[]> {
    if (typeof observe !== 'function') throw new InvalidConfigError(formatError('policy.controller.tick', 'a function npc => observation', describe(observe), 'pass (npc) => observationOf(npc)'));
    if (this.ticking) throw new InvalidConfigError(formatError('policy.controller.tick', 'one tick at a time', 'a tick while the previous one is still running', 'await controller.tick(...) before the next frame\'s tick'));
    this.ticking = true;
    try {
      const due = this.members.filter((npc) => npc.countdown <= 0);
      const observations = due.map((npc) => observe(npc));
      const actions = due.length ? await this.policy.actBatch(observations, due.map((npc) => npc.state), this.actOptions) : [];
      due.forEach((npc, i) => {
        npc.action = actions[i]!;
        npc.countdown = this.decisionPeriod;
      });
      // Only NPCs waiting count down: one added (or reset) during observe stays due for the next tick.
      for (const npc of this.members) if (npc.countdown > 0) npc.countdown--;
      this.frame++;
      return due;
    } finally {
      this.ticking = false;
    }
  }

  /** Removes every NPC and frees their states (the policy stays loaded). */
  dispose(): void {
    for (const npc of this.members) npc.state.dispose();
    this.members.length = 0;
  }
}
