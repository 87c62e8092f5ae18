/**
 * Child process of ppo-experience.test.ts: decodes thousands of hostile PPO segments (random byte
 * flips, truncations and huge declared shapes of a valid MultiDiscrete and a valid Box segment)
 * with the compiled decoder, under the memory cap the parent gives node. Prints
 * `FUZZ-DONE {"inputs", "refused", "accepted", "other"}` (other: errors that are not ExperienceError).
 * Plain JS on dist/ so that the cap applies to the decoder alone, not to vitest.
 */
import { Packr } from 'msgpackr';

const root = new URL('../../', import.meta.url);
const { decodeExperience, encodeExperience, ExperienceError } = await import(new URL('dist/src/distributed/experience.js', root).href);
const { SeededRng } = await import(new URL('dist/src/envs/rng.js', root).href);

const packr = new Packr({ useRecords: false, moreTypes: false });
const E = 4;
const T = 32;
const header = (numActions) => ({ game: 'g', runId: 'r', netHash: 'h', obsShape: [10, 10, 4], obsDtype: 'uint8', numActions, weightsVersion: 1, actorId: 'a1', seq: 0, numEnvs: E, steps: T, episodeReturns: [] });
const common = (rng) => ({ obs: Uint8Array.from({ length: E * (T + 1) * 400 }, () => (rng.random() < 0.1 ? 1 : 0)), rewards: new Float32Array(E * T), terminated: new Uint8Array(E * T), truncated: new Uint8Array(E * T), finalObs: new Uint8Array(0), priorities: null, logProbs: new Float32Array(E * T).fill(-1) });
const rng = new SeededRng(11);
const cases = [
  { batch: { header: header(5), ...common(rng), actions: new Int32Array(E * T * 2) }, expect: { actions: { kind: 'multi-discrete', nvec: [3, 2] }, numActions: 5 } },
  { batch: { header: header(2), ...common(rng), actions: new Float32Array(E * T * 2) }, expect: { actions: { kind: 'box', dims: 2 }, numActions: 2 } },
];
let inputs = 0;
let refused = 0;
let accepted = 0;
const other = [];
const tryDecode = (raw, exp) => {
  inputs++;
  try {
    decodeExperience(raw, exp, 'fuzz');
    accepted++;
  } catch (err) {
    if (err instanceof ExperienceError && !err.message.includes('\n')) refused++;
    else other.push(String(err?.constructor?.name) + ': ' + String(err?.message).slice(0, 200));
  }
};
for (const c of cases) {
  const exp = { game: 'g', runId: 'r', netHash: 'h', obsShape: [10, 10, 4], obsDtype: 'uint8', prioritized: false, logProbs: true, steps: T, ...c.expect };
  const valid = encodeExperience(c.batch);
  const acceptedBefore = accepted;
  tryDecode(valid, exp);
  if (accepted !== acceptedBefore + 1) other.push('the valid segment was refused');
  // Byte flips anywhere (header, array descriptors, data).
  for (let k = 0; k < 800; k++) {
    const raw = Uint8Array.from(valid);
    const flips = 1 + rng.int(0, 8);
    for (let f = 0; f < flips; f++) raw[rng.int(0, raw.length)] = rng.int(0, 256);
    tryDecode(raw, exp);
  }
  // Truncations.
  for (let k = 0; k < 200; k++) tryDecode(valid.subarray(0, rng.int(0, valid.length)), exp);
  // Huge or odd declared shapes, dims and counts in the document itself.
  const doc = packr.unpack(valid);
  const huge = [2 ** 31, 2 ** 40, 2 ** 53 - 1, -1, 1.5, 0, Number.NaN];
  for (const name of ['obs', 'actions', 'logProbs', 'finalObs', 'rewards']) {
    for (const h of huge) {
      for (const at of [0, 1, 2]) {
        const d = packr.unpack(valid);
        const s = [...d.arrays[name].shape];
        s[Math.min(at, s.length - 1)] = h;
        d.arrays[name].shape = s;
        tryDecode(packr.pack(d), exp);
      }
    }
  }
  for (const h of huge) for (const k of ['numEnvs', 'steps', 'seq', 'weightsVersion']) tryDecode(packr.pack({ ...doc, header: { ...doc.header, [k]: h } }), exp);
  tryDecode(packr.pack({ ...doc, header: { ...doc.header, episodeReturns: new Array(100000).fill(1) } }), exp);
}
process.stdout.write(`FUZZ-DONE ${JSON.stringify({ inputs, refused, accepted, other: other.slice(0, 5) })}\n`);
