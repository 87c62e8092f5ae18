import { describe, expect, it } from 'vitest';
import { epsilonAt, huber, tdTargets } from '../../../src/agents/dqn/td.js';
import { nStepReturn } from '../../../src/replay/buffer/nstep.js';

describe('tdTargets', () => {
  const base = {
    returns: [1, 0.5, -1],
    discounts: [0.9, 0.9, 0.81],
    terminated: [0, 1, 0],
    // Q_target(s', .) for 2 actions
    nextQTarget: [2, 3, 10, 20, 4, -1],
    numActions: 2,
  };

  it('vanilla: max of the target net, no bootstrap after termination', () => {
    const y = tdTargets(base);
    // 1 + 0.9*3 = 3.7; 0.5 (terminated); -1 + 0.81*4 = 2.24
    expect(Array.from(y).map((v) => +v.toFixed(5))).toEqual([3.7, 0.5, 2.24]);
  });

  it('double: the online net picks the action, the target net values it', () => {
    const y = tdTargets({ ...base, nextQOnline: [5, 1, 0, 0, 0, 9] });
    // row0 picks a=0 -> 1 + 0.9*2 = 2.8; row1 terminated -> 0.5; row2 picks a=1 -> -1 + 0.81*(-1) = -1.81
    expect(Array.from(y).map((v) => +v.toFixed(5))).toEqual([2.8, 0.5, -1.81]);
  });

  it('truncated transitions still bootstrap (only terminated stops it)', () => {
    const y = tdTargets({ returns: [0], discounts: [0.99], terminated: [0], nextQTarget: [10], numActions: 1 });
    expect(y[0]).toBeCloseTo(9.9, 5);
  });
});

describe('nStepReturn', () => {
  it('folds n rewards with gamma powers', () => {
    const r = nStepReturn([1, 2, 3, 4], [0, 0, 0, 0], [0, 0, 0, 0], 4, 3, 0.5);
    expect(r).toEqual({ ret: 1 + 0.5 * 2 + 0.25 * 3, steps: 3, discount: 0.125, terminated: false });
  });
  it('stops at termination and flags it', () => {
    const r = nStepReturn([1, 1, 1], [0, 1, 0], [0, 1, 0], 3, 3, 0.9);
    expect(r.ret).toBeCloseTo(1.9, 10);
    expect(r.steps).toBe(2);
    expect(r.terminated).toBe(true);
  });
  it('stops at truncation without the terminated flag', () => {
    const r = nStepReturn([1, 1, 1], [0, 0, 0], [1, 0, 0], 3, 3, 0.9);
    expect(r).toEqual({ ret: 1, steps: 1, discount: 0.9, terminated: false });
  });
  it('stops at the end of the available data', () => {
    const r = nStepReturn([2, 2, 2], [0, 0, 0], [0, 0, 0], 2, 3, 0.5);
    expect(r).toEqual({ ret: 3, steps: 2, discount: 0.25, terminated: false });
  });
});

describe('schedules and losses', () => {
  const s = { learningStarts: 100, epsilonStart: 1, epsilonEnd: 0.1, epsilonDecaySteps: 1000 };
  it('epsilon: random phase, then linear decay, then flat', () => {
    expect(epsilonAt(50, s)).toBe(1);
    expect(epsilonAt(600, s)).toBeCloseTo(0.55, 10);
    expect(epsilonAt(1100, s)).toBeCloseTo(0.1, 10);
    expect(epsilonAt(1e6, s)).toBeCloseTo(0.1, 10);
  });
  it('huber: quadratic inside delta, linear outside', () => {
    expect(huber(0.5)).toBe(0.125);
    expect(huber(-3)).toBe(2.5);
    expect(huber(3, 2)).toBe(4);
  });
});
