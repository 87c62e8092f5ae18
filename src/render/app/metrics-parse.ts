/**
 * Incremental parser of a run's metrics.jsonl (untrusted, possibly still being written): bytes go in
 * as they arrive, complete lines come out as numeric columns. The bytes after the last newline are a
 * line still being written: they are kept for the next `push`, never parsed, until `end()` says the
 * file is complete. Values that are not finite numbers are skipped and counted; memory is bounded by
 * `MAX_CELLS` whatever the file holds. DOM-free: unit tests run it in Node.
 */

/** Numeric fields kept per file (more are counted in `droppedFields`). */
export const MAX_FIELDS = 64;
/** Rows x fields kept (4 bytes each, plus 8 per row for x): ~128 MB at most; later lines are counted in `droppedLines`. */
export const MAX_CELLS = 32 * 1024 * 1024;
/** Longest line parsed (a metrics line is a few hundred bytes); longer ones are counted as unreadable. */
export const MAX_LINE_CHARS = 64 * 1024;

/** Fields used for the x axis, in order of preference (else the line number). */
const X_FIELDS = ['step', 'epoch'] as const;

/** Per field: values that were there but not finite numbers, and lines where it was null or absent. */
export interface FieldCounts {
  /** Strings, booleans, objects, arrays, NaN/Infinity written as text. */
  nonNumeric: number;
  /** null (e.g. eval_return between evaluations: not measured). */
  nulls: number;
}

/** Growable float column. */
class Column<T extends Float32Array | Float64Array> {
  data: T;
  constructor(private readonly make: (n: number) => T, capacity: number, fill: number) {
    this.data = make(capacity);
    this.data.fill(fill);
  }
  /** Grows to hold n values (doubling, but never past `cap`, so the cell bound is not overshot twofold). */
  ensure(n: number, fill: number, cap = Infinity): void {
    if (n <= this.data.length) return;
    const next = this.make(Math.max(n, Math.min(this.data.length * 2, cap)));
    next.set(this.data);
    next.fill(fill, this.data.length);
    this.data = next;
  }
}

export class MetricsParser {
  /** x value per kept row (the `step`/`epoch` field, else the line number). */
  private x = new Column((n) => new Float64Array(n), 1024, NaN);
  private readonly cols = new Map<string, Column<Float32Array>>();
  private readonly decoder = new TextDecoder();
  /** Text after the last newline: a line not yet complete. */
  private tail = '';
  /** Kept rows. */
  rows = 0;
  /** Lines read (complete ones), kept or not. */
  lines = 0;
  /** Lines that are not a JSON object (half-written, garbage, too long, arrays, ...). */
  badLines = 0;
  /** Lines without a finite x value where the file has one (`step` missing or not a number). */
  noX = 0;
  /** Lines past MAX_CELLS, not kept. */
  droppedLines = 0;
  /** Numeric fields past MAX_FIELDS, not kept. */
  droppedFields = 0;
  /** Bytes pushed. */
  bytes = 0;
  /** Whether the x values so far never decrease (else plots sort them). */
  monotonic = true;
  readonly counts = new Map<string, FieldCounts>();
  /** x field chosen from the first JSON object line: `step`, `epoch`, or null (line number). */
  xField: string | null | undefined = undefined;

  /** Parses the complete lines of `chunk` (with the tail kept from before); returns the rows added. */
  push(chunk: Uint8Array): number {
    this.bytes += chunk.length;
    let text = this.decoder.decode(chunk, { stream: true });
    if (this.skipping) {
      // The rest of a line already counted as unreadable (too long).
      const nl = text.indexOf('\n');
      if (nl < 0) return 0;
      text = text.slice(nl + 1);
      this.skipping = false;
    }
    text = this.tail + text;
    const last = text.lastIndexOf('\n');
    const before = this.rows;
    let start = 0;
    while (start <= last) {
      const nl = text.indexOf('\n', start);
      this.line(text.slice(start, nl));
      start = nl + 1;
    }
    this.tail = text.slice(last + 1);
    // A line that never ends is not kept growing in memory: it is unreadable once over the limit.
    if (this.tail.length > MAX_LINE_CHARS) {
      this.lines++;
      this.badLines++;
      this.tail = '';
      this.skipping = true;
    }
    return this.rows - before;
  }

  /** The file is complete: its last line, even without a newline, is parsed. */
  end(): number {
    const rest = this.tail + this.decoder.decode();
    this.tail = '';
    if (this.skipping || !rest.trim()) return 0;
    const before = this.rows;
    this.line(rest);
    return this.rows - before;
  }

  /** Set while the rest of a line over MAX_LINE_CHARS is skipped up to its newline. */
  private skipping = false;

  /** Bytes held by the columns (their capacity), for the memory figures of the benchmark. */
  columnBytes(): number {
    let n = this.x.data.byteLength;
    for (const c of this.cols.values()) n += c.data.byteLength;
    return n;
  }

  /** Numeric fields (x field excluded), in order of first appearance. */
  fields(): string[] {
    return [...this.cols.keys()];
  }

  /** The kept rows' x values and the field's values (NaN where it had no finite number). Views: valid until the next push. */
  column(field: string): { x: Float64Array; y: Float32Array } | null {
    const c = this.cols.get(field);
    // Grown lazily: a field absent from the last lines may hold fewer rows.
    c?.ensure(this.rows, NaN);
    return c ? { x: this.x.data.subarray(0, this.rows), y: c.data.subarray(0, this.rows) } : null;
  }

  private line(raw: string): void {
    if (!raw.trim()) return;
    this.lines++;
    if (raw.length > MAX_LINE_CHARS) {
      this.badLines++;
      return;
    }
    let v: unknown;
    let textNonFinite: string[] = [];
    try {
      v = JSON.parse(raw);
    } catch {
      // Python's json writes NaN and Infinity bare, which is not JSON: read such a line with them as
      // non-numbers (counted), rather than losing its other values.
      const fixed = nonFiniteAsNull(raw);
      if (!fixed) {
        this.badLines++;
        return;
      }
      try {
        v = JSON.parse(fixed.text);
        textNonFinite = fixed.fields;
      } catch {
        this.badLines++;
        return;
      }
    }
    if (!v || typeof v !== 'object' || Array.isArray(v)) {
      this.badLines++;
      return;
    }
    const o = v as Record<string, unknown>;
    if (this.xField === undefined) this.xField = X_FIELDS.find((f) => isNum(o[f])) ?? null;
    let x: number;
    if (this.xField === null) x = this.lines - 1;
    else {
      const xv = o[this.xField];
      if (!isNum(xv)) {
        this.noX++;
        return;
      }
      x = xv;
    }
    const width = Math.max(1, this.cols.size);
    if ((this.rows + 1) * width > MAX_CELLS) {
      this.droppedLines++;
      return;
    }
    const r = this.rows;
    if (r > 0 && x < this.x.data[r - 1]!) this.monotonic = false;
    // Rows the cell bound allows with the fields known now.
    const cap = Math.floor(MAX_CELLS / width);
    this.x.ensure(r + 1, NaN, cap);
    this.x.data[r] = x;
    for (const key in o) {
      if (key === this.xField) continue;
      const val = o[key];
      if (isNum(val)) {
        let c = this.cols.get(key);
        if (!c) {
          if (this.cols.size >= MAX_FIELDS) {
            this.droppedFields++;
            continue;
          }
          c = new Column((n) => new Float32Array(n), Math.max(r + 1, Math.min(1024, cap)), NaN);
          this.cols.set(key, c);
        }
        c.ensure(r + 1, NaN, cap);
        c.data[r] = val;
      } else {
        const counts = this.countsOf(key);
        if (val === null) counts.nulls++;
        else counts.nonNumeric++;
      }
    }
    for (const f of textNonFinite) {
      const counts = this.countsOf(f);
      counts.nulls--;
      counts.nonNumeric++;
    }
    // Columns absent from this line hold NaN at row r already: they are NaN-filled when made and grown.
    this.rows = r + 1;
  }

  private countsOf(key: string): FieldCounts {
    let c = this.counts.get(key);
    if (!c) {
      if (this.counts.size >= MAX_FIELDS * 4) return { nonNumeric: 0, nulls: 0 };
      c = { nonNumeric: 0, nulls: 0 };
      this.counts.set(key, c);
    }
    return c;
  }
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * A line with bare `NaN`, `Infinity` or `-Infinity` values (outside strings) rewritten with `null`,
 * and the keys that held them; null when the line has none.
 */
export function nonFiniteAsNull(line: string): { text: string; fields: string[] } | null {
  const fields: string[] = [];
  const text = line.replace(/("((?:[^"\\]|\\.)*)"\s*:\s*)(-?Infinity|NaN)(?=\s*[,}])|"(?:[^"\\]|\\.)*"/g, (m, prefix: string | undefined, key: string | undefined) => {
    if (prefix === undefined) return m;
    try {
      fields.push(JSON.parse(`"${key}"`) as string);
    } catch {
      fields.push(key!);
    }
    return `${prefix}null`;
  });
  return fields.length ? { text, fields } : null;
}
