/** Minimal RIFF/WAVE reader and writer: PCM 8/16/24/32-bit and IEEE float 32, mixed down to mono. */
import { writeFile } from 'node:fs/promises';
import { DatasetError, formatError } from '../../errors.js';
import { MAX_SAMPLE_BYTES, readSampleEnds, readSampleFile } from '../data-files.js';

/** Decoded audio: mono samples in [-1, 1]. */
export interface Audio {
  sampleRate: number;
  samples: Float32Array;
}

function bad(path: string, received: string): DatasetError {
  return new DatasetError(formatError('readWav', 'a PCM or float WAV file', `${path}: ${received}`, 'regenerate the file (e.g. `npcforge data speech`) or convert it with sox'));
}

/** Decodes WAV bytes; multi-channel audio is averaged to mono. */
export function decodeWav(bytes: Uint8Array, path = '<buffer>'): Audio {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (o: number) => String.fromCharCode(bytes[o]!, bytes[o + 1]!, bytes[o + 2]!, bytes[o + 3]!);
  if (bytes.length < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE') throw bad(path, 'no RIFF/WAVE header');
  let fmt: { format: number; channels: number; rate: number; bits: number } | null = null;
  let off = 12;
  while (off + 8 <= bytes.length) {
    const id = tag(off);
    const size = view.getUint32(off + 4, true);
    const body = off + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > bytes.length) throw bad(path, `a 'fmt ' chunk of ${size} bytes (at least 16)`);
      let format = view.getUint16(body, true);
      // WAVE_FORMAT_EXTENSIBLE stores the real format code in the sub-format GUID.
      if (format === 0xfffe && size >= 26) format = view.getUint16(body + 24, true);
      fmt = { format, channels: view.getUint16(body + 2, true), rate: view.getUint32(body + 4, true), bits: view.getUint16(body + 14, true) };
    } else if (id === 'data') {
      if (fmt === null) throw bad(path, "a 'data' chunk before 'fmt '");
      const { format, channels, bits } = fmt;
      // Checked before the sample buffer is sized from them (0 bits or channels would divide by zero).
      if (![8, 16, 24, 32].includes(bits) || channels < 1 || channels > 64 || fmt.rate < 1) throw bad(path, `${channels} channels of ${bits} bits at ${fmt.rate} Hz`);
      const bytesPer = bits / 8;
      const end = Math.min(bytes.length, body + size);
      const frames = Math.floor((end - body) / (bytesPer * channels));
      const out = new Float32Array(frames);
      const read = (p: number): number => {
        if (format === 3 && bits === 32) return view.getFloat32(p, true);
        if (format !== 1) throw bad(path, `format code ${format} with ${bits} bits`);
        if (bits === 16) return view.getInt16(p, true) / 32768;
        if (bits === 8) return (bytes[p]! - 128) / 128;
        if (bits === 24) return ((bytes[p]! | (bytes[p + 1]! << 8) | (bytes[p + 2]! << 16)) << 8 >> 8) / 8388608;
        if (bits === 32) return view.getInt32(p, true) / 2147483648;
        throw bad(path, `${bits}-bit PCM`);
      };
      for (let i = 0; i < frames; i++) {
        let s = 0;
        for (let c = 0; c < channels; c++) s += read(body + (i * channels + c) * bytesPer);
        out[i] = s / channels;
      }
      return { sampleRate: fmt.rate, samples: out };
    }
    off = body + size + (size & 1);
  }
  throw bad(path, "no 'data' chunk");
}

/** Reads a WAV file (a regular file of at most MAX_SAMPLE_BYTES.speech). */
export async function readWav(path: string): Promise<Audio> {
  return decodeWav(await readSampleFile(path, MAX_SAMPLE_BYTES.speech, 'readWav'), path);
}

/** Checks the RIFF/WAVE signature of a file without reading the rest (run on every file when a folder is listed). */
export async function checkWavFile(path: string, component = 'loadSpeechFolder'): Promise<void> {
  const { head } = await readSampleEnds(path, 12, 0, component);
  if (head.length < 12 || head.toString('latin1', 0, 4) !== 'RIFF' || head.toString('latin1', 8, 12) !== 'WAVE') {
    throw new DatasetError(formatError(component, 'a WAV file (RIFF/WAVE header)', `${head.length === 0 ? 'an empty file' : 'no RIFF/WAVE header'} in ${path}`, 'delete or replace the file, or convert it with sox'));
  }
}

/** Encodes mono samples as 16-bit PCM WAV bytes (clipped to [-1, 1]). */
export function encodeWav(audio: Audio): Uint8Array {
  const n = audio.samples.length;
  const buf = new Uint8Array(44 + n * 2);
  const v = new DataView(buf.buffer);
  const put = (o: number, s: string) => [...s].forEach((ch, i) => (buf[o + i] = ch.charCodeAt(0)));
  put(0, 'RIFF');
  v.setUint32(4, 36 + n * 2, true);
  put(8, 'WAVE');
  put(12, 'fmt ');
  v.setUint32(16, 16, true);
  v.setUint16(20, 1, true);
  v.setUint16(22, 1, true);
  v.setUint32(24, audio.sampleRate, true);
  v.setUint32(28, audio.sampleRate * 2, true);
  v.setUint16(32, 2, true);
  v.setUint16(34, 16, true);
  put(36, 'data');
  v.setUint32(40, n * 2, true);
  for (let i = 0; i < n; i++) v.setInt16(44 + i * 2, Math.round(Math.max(-1, Math.min(1, audio.samples[i]!)) * 32767), true);
  return buf;
}

/** Writes a mono 16-bit WAV file. */
export async function writeWav(path: string, audio: Audio): Promise<void> {
  await writeFile(path, encodeWav(audio));
}
