/**
 * Named error classes. Every message has the shape
 * `[Component] expected ..., received ...; fix: ...` (see `formatError`).
 */

/** Builds the project's standard error message. */
export function formatError(component: string, expected: string, received: string, fix: string): string {
  return `[${component}] expected ${expected}, received ${received}; fix: ${fix}`;
}

/** Short, readable description of a value for error messages. */
export function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? value.slice(0, 57) + '...' : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (ArrayBuffer.isView(value)) {
    const name = value.constructor.name;
    const len = (value as unknown as { length?: number }).length;
    return `${name}(${len ?? value.byteLength})`;
  }
  if (Array.isArray(value)) return `array(${value.length})`;
  if (typeof value === 'function') return 'function';
  try {
    const s = JSON.stringify(value);
    return s.length > 80 ? s.slice(0, 77) + '...' : s;
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/** Base class of every error the framework throws on purpose. */
export class NpcforgeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** An action outside the action space was passed to `step`. */
export class InvalidActionError extends NpcforgeError {}
/** `step` was called before `reset`, or after the episode ended. */
export class ResetNeededError extends NpcforgeError {}
/** An observation, action or saved model does not fit the expected space. */
export class SpaceMismatchError extends NpcforgeError {}
/**
 * A configuration value (options object, CLI flag, config file) is invalid. `problems` lists the
 * bad fields one by one, so a caller that checks several parts can fold them into one message.
 */
export class InvalidConfigError extends NpcforgeError {
  readonly problems: readonly string[];
  constructor(message: string, options?: { cause?: unknown; problems?: readonly string[] }) {
    super(message, options);
    this.problems = options?.problems ?? [message];
  }
}
/** A file that should hold a recorded episode is corrupt, truncated or not an episode. */
export class EpisodeFormatError extends NpcforgeError {}
/** A file carries a format version this build cannot read. */
export class UnsupportedVersionError extends NpcforgeError {}
/** `make` was given an id that is not registered. */
export class UnknownEnvError extends NpcforgeError {}
/** A worker thread of a vector env failed or died. */
export class WorkerError extends NpcforgeError {}
/** A compute backend could not be initialised or failed its self-test. */
export class BackendError extends NpcforgeError {}
/** A checkpoint, run folder or policy bundle is missing or corrupt. */
export class CheckpointError extends NpcforgeError {}
/** A data set folder or file is missing, empty or unreadable. */
export class DatasetError extends NpcforgeError {}
/** A local server's port is taken (or may not be bound): a usage error, so the CLI exits 2. */
export class PortInUseError extends InvalidConfigError {}
/** Training produced a non-finite loss or gradient (NaN or Infinity): the weights are no longer usable. */
export class TrainingDivergedError extends NpcforgeError {}
/** An env chain cannot be snapshotted exactly: a wrapper keeps state it does not declare. */
export class EnvStateError extends NpcforgeError {}
/** A frame was asked of a game that has no `render()` (recording, the viewer, play). */
export class RenderUnavailableError extends NpcforgeError {}
/** A service the command needs (Redis) cannot be reached, or refused the request. */
export class ConnectionError extends NpcforgeError {}
/** A module named by `--import` (or recorded by a run) cannot be found, throws on import, or registers games badly. */
export class GameModuleError extends NpcforgeError {}
/** A network holds a layer (or a layer option) that the ONNX exporter cannot translate. */
export class UnsupportedLayerError extends NpcforgeError {}
