/**
 * Speech features: framed Hann-windowed power spectrum (own radix-2 FFT), triangular mel filter
 * bank (HTK mel scale, mel = 2595 log10(1 + f/700)), log-mel spectrogram and MFCC (orthonormal
 * DCT-II of the log-mel energies).
 */
import { InvalidConfigError, describe, formatError } from '../../errors.js';

/** Feature extraction settings. */
export interface FeatureConfig {
  /** Expected input sample rate, Hz. */
  sampleRate: number;
  /** Clip length the audio is padded/trimmed to, samples. */
  clipSamples: number;
  /** Analysis window length, samples (400 = 25 ms at 16 kHz). */
  frameLength: number;
  /** Step between frames, samples (160 = 10 ms at 16 kHz). */
  hopLength: number;
  /** FFT size (power of two >= frameLength). */
  fftSize: number;
  /** Number of mel bands. */
  numMels: number;
  /** Lowest filter-bank edge, Hz. */
  fMin: number;
  /** Highest filter-bank edge, Hz (<= sampleRate / 2). */
  fMax: number;
  /** `logmel` = log mel energies per frame; `mfcc` = their first `numCoefficients` DCT coefficients. */
  kind: 'logmel' | 'mfcc';
  /** MFCC coefficients kept (only for `mfcc`). */
  numCoefficients: number;
}

export const DEFAULT_FEATURE_CONFIG: FeatureConfig = { sampleRate: 16000, clipSamples: 16000, frameLength: 400, hopLength: 160, fftSize: 512, numMels: 40, fMin: 20, fMax: 8000, kind: 'logmel', numCoefficients: 13 };

/** Checks a feature config, reporting every bad field at once. */
export function resolveFeatureConfig(partial: Partial<FeatureConfig> = {}): FeatureConfig {
  const c = { ...DEFAULT_FEATURE_CONFIG, ...partial };
  const bad: string[] = [];
  const isPow2 = (n: number) => Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
  if (!isPow2(c.fftSize)) bad.push(`fftSize=${describe(c.fftSize)} (a power of two)`);
  if (!(Number.isInteger(c.frameLength) && c.frameLength > 0 && c.frameLength <= c.fftSize)) bad.push(`frameLength=${describe(c.frameLength)} (1..fftSize)`);
  if (!(Number.isInteger(c.hopLength) && c.hopLength > 0)) bad.push(`hopLength=${describe(c.hopLength)}`);
  if (!(Number.isInteger(c.clipSamples) && c.clipSamples >= c.frameLength)) bad.push(`clipSamples=${describe(c.clipSamples)} (>= frameLength)`);
  if (!(c.sampleRate > 0)) bad.push(`sampleRate=${describe(c.sampleRate)}`);
  if (!(c.fMin >= 0 && c.fMax > c.fMin && c.fMax <= c.sampleRate / 2)) bad.push(`fMin/fMax=${c.fMin}/${c.fMax} (0 <= fMin < fMax <= sampleRate/2)`);
  if (!(Number.isInteger(c.numMels) && c.numMels >= 1)) bad.push(`numMels=${describe(c.numMels)}`);
  if (c.kind !== 'logmel' && c.kind !== 'mfcc') bad.push(`kind=${describe(c.kind)} ('logmel' or 'mfcc')`);
  if (!(Number.isInteger(c.numCoefficients) && c.numCoefficients >= 1 && c.numCoefficients <= c.numMels)) bad.push(`numCoefficients=${describe(c.numCoefficients)} (1..numMels)`);
  if (bad.length > 0) throw new InvalidConfigError(formatError('FeatureConfig', 'consistent spectrogram settings', bad.join('; '), 'fix the listed fields'));
  return c;
}

/** In-place iterative radix-2 complex FFT of (re, im), length a power of two. */
export function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j]!, re[i]!];
      [im[i], im[j]] = [im[j]!, im[i]!];
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = (-2 * Math.PI) / len;
    const wr = Math.cos(ang);
    const wi = Math.sin(ang);
    for (let i = 0; i < n; i += len) {
      let cr = 1;
      let ci = 0;
      for (let k = 0; k < len / 2; k++) {
        const a = i + k;
        const b = a + len / 2;
        const tr = re[b]! * cr - im[b]! * ci;
        const ti = re[b]! * ci + im[b]! * cr;
        re[b] = re[a]! - tr;
        im[b] = im[a]! - ti;
        re[a] = re[a]! + tr;
        im[a] = im[a]! + ti;
        const ncr = cr * wr - ci * wi;
        ci = cr * wi + ci * wr;
        cr = ncr;
      }
    }
  }
}

/** HTK mel scale. */
export const hzToMel = (hz: number): number => 2595 * Math.log10(1 + hz / 700);
/** Inverse of `hzToMel`. */
export const melToHz = (mel: number): number => 700 * (10 ** (mel / 2595) - 1);

/**
 * Triangular mel filters over the `fftSize/2 + 1` FFT bins, row-major [numMels, bins]. Band m
 * rises linearly from edge m to edge m+1 and falls to edge m+2, edges equally spaced in mel and
 * evaluated at each bin's centre frequency (unit peak height, no area normalisation).
 */
export function melFilterBank(c: Pick<FeatureConfig, 'sampleRate' | 'fftSize' | 'numMels' | 'fMin' | 'fMax'>): Float32Array {
  const bins = c.fftSize / 2 + 1;
  const melMin = hzToMel(c.fMin);
  const melMax = hzToMel(c.fMax);
  const edges = Array.from({ length: c.numMels + 2 }, (_, i) => melToHz(melMin + ((melMax - melMin) * i) / (c.numMels + 1)));
  const fb = new Float32Array(c.numMels * bins);
  for (let m = 0; m < c.numMels; m++) {
    const [lo, mid, hi] = [edges[m]!, edges[m + 1]!, edges[m + 2]!];
    for (let b = 0; b < bins; b++) {
      const f = (b * c.sampleRate) / c.fftSize;
      const w = f <= lo || f >= hi ? 0 : f <= mid ? (f - lo) / (mid - lo) : (hi - f) / (hi - mid);
      fb[m * bins + b] = w;
    }
  }
  return fb;
}

/** Power spectrogram |FFT|^2 of Hann-windowed frames, row-major [frames, fftSize/2 + 1]. */
export function powerSpectrogram(samples: Float32Array, c: Pick<FeatureConfig, 'frameLength' | 'hopLength' | 'fftSize'>): { frames: number; bins: number; power: Float32Array } {
  const bins = c.fftSize / 2 + 1;
  const frames = samples.length < c.frameLength ? 0 : 1 + Math.floor((samples.length - c.frameLength) / c.hopLength);
  const power = new Float32Array(frames * bins);
  const window = new Float64Array(c.frameLength);
  // Periodic Hann, as used for spectral analysis (librosa/torch default).
  for (let i = 0; i < c.frameLength; i++) window[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / c.frameLength);
  const re = new Float64Array(c.fftSize);
  const im = new Float64Array(c.fftSize);
  for (let f = 0; f < frames; f++) {
    re.fill(0);
    im.fill(0);
    const start = f * c.hopLength;
    for (let i = 0; i < c.frameLength; i++) re[i] = samples[start + i]! * window[i]!;
    fft(re, im);
    for (let b = 0; b < bins; b++) power[f * bins + b] = re[b]! * re[b]! + im[b]! * im[b]!;
  }
  return { frames, bins, power };
}

/** Pads with zeros or trims to exactly `n` samples. */
export function padOrTrim(samples: Float32Array, n: number): Float32Array {
  if (samples.length === n) return samples;
  const out = new Float32Array(n);
  out.set(samples.subarray(0, Math.min(n, samples.length)));
  return out;
}

/** Shape of the features `extractFeatures` returns: [frames, featuresPerFrame]. */
export function featureShape(c: FeatureConfig): [number, number] {
  const frames = 1 + Math.floor((c.clipSamples - c.frameLength) / c.hopLength);
  return [frames, c.kind === 'mfcc' ? c.numCoefficients : c.numMels];
}

const LOG_FLOOR = 1e-10;

/** Log-mel (natural log, floored at 1e-10) or MFCC features of one clip, row-major [frames, dims]. */
export function extractFeatures(samples: Float32Array, config: FeatureConfig, filterBank: Float32Array = melFilterBank(config)): Float32Array {
  const clip = padOrTrim(samples, config.clipSamples);
  const { frames, bins, power } = powerSpectrogram(clip, config);
  const m = config.numMels;
  const logmel = new Float32Array(frames * m);
  for (let f = 0; f < frames; f++) {
    for (let k = 0; k < m; k++) {
      let e = 0;
      for (let b = 0; b < bins; b++) {
        const w = filterBank[k * bins + b]!;
        if (w !== 0) e += w * power[f * bins + b]!;
      }
      logmel[f * m + k] = Math.log(Math.max(e, LOG_FLOOR));
    }
  }
  if (config.kind === 'logmel') return logmel;
  return dct2(logmel, frames, m, config.numCoefficients);
}

/** Orthonormal DCT-II along each row of [rows, n], keeping the first `keep` coefficients. */
export function dct2(x: Float32Array, rows: number, n: number, keep: number): Float32Array {
  const out = new Float32Array(rows * keep);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < keep; k++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += x[r * n + i]! * Math.cos((Math.PI * k * (2 * i + 1)) / (2 * n));
      out[r * keep + k] = s * (k === 0 ? Math.sqrt(1 / n) : Math.sqrt(2 / n));
    }
  }
  return out;
}
