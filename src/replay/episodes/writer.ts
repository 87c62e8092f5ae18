/**
 * Node writer of `.npcep` files. Records stream into `<path>.partial` as each chunk completes (a
 * crash loses at most the current chunk, and `readEpisode(..., { allowIncomplete: true })` reads the
 * rest); `finish()` appends the end record, syncs and renames the file into place atomically.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { InvalidConfigError, formatError, describe } from '../../errors.js';
import type { RgbFrame } from '../../envs/env.js';
import { EpisodeEncoder, type EpisodeStart, type MultiAgentRecordedStep, type RecordedStep } from './encoder.js';
import { EPISODE_EXTENSION, type EpisodeEnd } from './format.js';

export interface EpisodeFileWriterOptions {
  /** Final file path; must end in `.npcep`. */
  path: string;
  /** Frames per chunk, or 'auto' (default): see EpisodeEncoderOptions. */
  keyframeInterval?: number | 'auto';
  /** Deflate level 0-9 (default 9). */
  compressionLevel?: number;
}

/** Suffix of a file still being written. */
export const PARTIAL_SUFFIX = '.partial';

/** Streams one episode to disk. */
export class EpisodeFileWriter {
  readonly path: string;
  readonly partialPath: string;
  private fd: number | null;
  private bytes = 0;
  private readonly encoder: EpisodeEncoder;

  constructor(options: EpisodeFileWriterOptions) {
    const { path, ...rest } = options;
    if (typeof path !== 'string' || !path.endsWith(EPISODE_EXTENSION)) {
      throw new InvalidConfigError(formatError('EpisodeFileWriter', `a path ending in ${EPISODE_EXTENSION}`, describe(path), `name the file e.g. episode-0001${EPISODE_EXTENSION}`));
    }
    this.path = path;
    this.partialPath = path + PARTIAL_SUFFIX;
    this.encoder = new EpisodeEncoder({ ...rest, onRecord: (b) => this.append(b) });
    mkdirSync(dirname(path), { recursive: true });
    this.fd = openSync(this.partialPath, 'w');
  }

  /** Writes the header; `firstFrame` is the frame rendered right after reset; `firstObs`: see EpisodeEncoder.begin. */
  begin(start: EpisodeStart, firstFrame: RgbFrame, firstObs?: ArrayLike<number>): void {
    this.encoder.begin(start, firstFrame, firstObs);
  }

  /** Adds one step (written to disk whenever a chunk completes). */
  step(s: RecordedStep): void {
    this.encoder.step(s);
  }

  /** Adds one step of a multi-agent episode (written to disk whenever a chunk completes). */
  stepAgents(s: MultiAgentRecordedStep): void {
    this.encoder.stepAgents(s);
  }

  /** Steps recorded so far. */
  get stepsRecorded(): number {
    return this.encoder.stepsRecorded;
  }

  /** Writes the end record and moves the file into place; returns the end record and the size in bytes. */
  finish(): EpisodeEnd & { path: string; bytes: number } {
    const end = this.encoder.finish();
    const fd = this.fd!;
    fsyncSync(fd);
    closeSync(fd);
    this.fd = null;
    renameSync(this.partialPath, this.path);
    return { ...end, path: this.path, bytes: this.bytes };
  }

  /** Drops the partial file (an episode that should not be kept). */
  abort(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    rmSync(this.partialPath, { force: true });
  }

  private append(b: Uint8Array): void {
    let off = 0;
    while (off < b.length) off += writeSync(this.fd!, b, off, b.length - off);
    this.bytes += b.length;
  }
}
