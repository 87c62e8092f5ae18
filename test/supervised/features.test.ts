import { describe, expect, it } from 'vitest';
import { dct2, extractFeatures, featureShape, fft, hzToMel, melFilterBank, melToHz, padOrTrim, powerSpectrogram, resolveFeatureConfig } from '../../src/supervised/speech/features.js';
import { decodeWav, encodeWav } from '../../src/supervised/speech/wav.js';
import { DatasetError, InvalidConfigError } from '../../src/errors.js';

describe('speech features', () => {
  it('fft of a unit impulse is flat and of a cosine peaks at its bin', () => {
    const re = new Float64Array(8);
    const im = new Float64Array(8);
    re[0] = 1;
    fft(re, im);
    expect(Array.from(re)).toEqual(new Array(8).fill(1));
    const n = 16;
    const cr = Float64Array.from({ length: n }, (_, i) => Math.cos((2 * Math.PI * 3 * i) / n));
    const ci = new Float64Array(n);
    fft(cr, ci);
    expect(cr[3]).toBeCloseTo(8, 9);
    expect(cr[13]).toBeCloseTo(8, 9);
    expect(Math.abs(cr[4]!)).toBeLessThan(1e-9);
  });

  it('a pure 1 kHz sine peaks in FFT bin 32 of 512 at 16 kHz', () => {
    const sr = 16000;
    const x = Float32Array.from({ length: sr }, (_, i) => Math.sin((2 * Math.PI * 1000 * i) / sr));
    const { frames, bins, power } = powerSpectrogram(x, { frameLength: 400, hopLength: 160, fftSize: 512 });
    expect(frames).toBe(98);
    expect(bins).toBe(257);
    for (const f of [0, 50, 97]) {
      let best = 0;
      for (let b = 1; b < bins; b++) if (power[f * bins + b]! > power[f * bins + best]!) best = b;
      expect(best).toBe(32); // 1000 Hz * 512 / 16000
    }
  });

  it('mel scale matches the HTK formula at known points', () => {
    expect(hzToMel(0)).toBe(0);
    expect(hzToMel(700)).toBeCloseTo(2595 * Math.log10(2), 9);
    expect(hzToMel(1000)).toBeCloseTo(999.9855, 3);
    expect(melToHz(hzToMel(4321))).toBeCloseTo(4321, 6);
  });

  it('mel filter bank equals a hand-computed triangle', () => {
    // One band over 0..8000 Hz at sr 16000, fft 8: edges 0, melToHz(hzToMel(8000)/2), 8000 Hz; bins at 0, 2000, 4000, 6000, 8000 Hz.
    const fb = melFilterBank({ sampleRate: 16000, fftSize: 8, numMels: 1, fMin: 0, fMax: 8000 });
    // hzToMel(8000) = 2840.02 mel; the centre is 1420.01 mel = 700 (10^(1420.01/2595) - 1) = 1767.79 Hz,
    // so every bin above 0 Hz lies on the falling side: (8000 - f) / (8000 - 1767.79).
    const mid = melToHz(hzToMel(8000) / 2);
    expect(mid).toBeCloseTo(1767.79, 1);
    const expected = [0, 6000 / 6232.21, 4000 / 6232.21, 2000 / 6232.21, 0];
    expect(fb.length).toBe(5);
    expected.forEach((e, i) => expect(fb[i]).toBeCloseTo(e, 5));
  });

  it('log-mel of a sine is largest in the band around its frequency; MFCC shape', () => {
    const c = resolveFeatureConfig({});
    const x = Float32Array.from({ length: 16000 }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 1000 * i) / 16000));
    const f = extractFeatures(x, c);
    const [frames, dims] = featureShape(c);
    expect(f.length).toBe(frames * dims);
    const fb = melFilterBank(c);
    let bestBand = 0;
    for (let m = 1; m < dims; m++) if (f[10 * dims + m]! > f[10 * dims + bestBand]!) bestBand = m;
    let strongest = 0;
    for (let m = 1; m < dims; m++) if (fb[m * 257 + 32]! > fb[strongest * 257 + 32]!) strongest = m;
    expect(bestBand).toBe(strongest);
    const mfcc = extractFeatures(x, resolveFeatureConfig({ kind: 'mfcc', numCoefficients: 13 }));
    expect(mfcc.length).toBe(frames * 13);
  });

  it('orthonormal DCT-II of a constant row has only a DC term', () => {
    const out = dct2(Float32Array.from([2, 2, 2, 2]), 1, 4, 3);
    expect(out[0]).toBeCloseTo(4, 6); // 2 * 4 * sqrt(1/4)
    expect(out[1]).toBeCloseTo(0, 6);
    expect(out[2]).toBeCloseTo(0, 6);
  });

  it('pads and trims to the clip length', () => {
    expect(Array.from(padOrTrim(Float32Array.from([1, 2]), 4))).toEqual([1, 2, 0, 0]);
    expect(Array.from(padOrTrim(Float32Array.from([1, 2, 3]), 2))).toEqual([1, 2]);
  });

  it('rejects inconsistent settings, listing every bad field', () => {
    expect(() => resolveFeatureConfig({ fftSize: 500, numMels: 0 })).toThrow(InvalidConfigError);
    expect(() => resolveFeatureConfig({ fftSize: 500, numMels: 0 })).toThrow(/fftSize=500.*numMels=0/);
  });
});

describe('wav', () => {
  it('round-trips 16-bit PCM and rejects non-WAV bytes', () => {
    const samples = Float32Array.from([0, 0.5, -0.5, 0.25]);
    const back = decodeWav(encodeWav({ sampleRate: 16000, samples }));
    expect(back.sampleRate).toBe(16000);
    back.samples.forEach((v, i) => expect(v).toBeCloseTo(samples[i]!, 3));
    expect(() => decodeWav(new Uint8Array(20))).toThrow(DatasetError);
    expect(() => decodeWav(new Uint8Array(20))).toThrow(/\[readWav\] expected a PCM or float WAV file/);
  });
});
