/** Progress output: one number format for returns, evaluations and losses; steps rounded to the log interval. */
import { describe, expect, it } from 'vitest';
import { Progress, formatNumber } from '../../src/train/progress.js';

function capture(): { out: { write(s: string): boolean; isTTY: boolean }; text: () => string } {
  let buf = '';
  return { out: { write: (s: string) => ((buf += s), true), isTTY: false }, text: () => buf };
}

describe('progress lines', () => {
  it('formats every number the same way (4 significant digits)', () => {
    expect(formatNumber(null)).toBe('-');
    expect(formatNumber(0)).toBe('0');
    expect(formatNumber(1)).toBe('1');
    expect(formatNumber(-0.123456)).toBe('-0.1235');
    expect(formatNumber(123.456)).toBe('123.5');
    expect(formatNumber(0.000123456)).toBe('0.0001235');
    expect(formatNumber(0.0000123456)).toBe('1.235e-5');
    expect(formatNumber(12345678)).toBe('1.235e+7');
  });

  it('shows the loss and rounds the step to the metrics interval', () => {
    const c = capture();
    const p = new Progress(c.out, true, { stepInterval: 1000 });
    p.line({ step: 1002, total: 5000, meanReturn: 0.5, evalReturn: null, loss: 0.0123456, stepsPerSec: 812.4 });
    p.line({ step: 5001, total: 5000, meanReturn: 123.456, evalReturn: -1, loss: null, stepsPerSec: 800 });
    expect(c.text()).toBe('step 1000/5000 return 0.5 eval - loss 0.01235 812 steps/s\nstep 5001/5000 return 123.5 eval -1 loss - 800 steps/s\n');
  });

  it('--no-progress hides lines and the start message but not notices', () => {
    const c = capture();
    const p = new Progress(c.out, true, { progress: false });
    p.line({ step: 100, total: 200, meanReturn: 1, evalReturn: 1, loss: 1, stepsPerSec: 1 });
    p.message('npcforge: training ...');
    p.notice('npcforge: done at step 200; run runs/x');
    expect(c.text()).toBe('npcforge: done at step 200; run runs/x\n');
  });
});
