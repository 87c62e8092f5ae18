/**
 * The on-disk layout of a replay memory: a little-endian u32 header length, a JSON header, then
 * each typed array's raw bytes at an 8-byte-aligned offset. Shared by every replay buffer so a
 * checkpoint's `replay.bin` is read the same way whatever wrote it.
 */

/** Serialises a JSON header and the raw bytes of `parts` into one byte array. */
export function packParts(header: Record<string, unknown>, parts: readonly ArrayBufferView[]): Uint8Array {
  const hb = new TextEncoder().encode(JSON.stringify(header));
  let len = 8 + hb.length;
  for (const p of parts) len = Math.ceil(len / 8) * 8 + p.byteLength;
  const out = new Uint8Array(len);
  new DataView(out.buffer).setUint32(0, hb.length, true);
  out.set(hb, 8);
  let off = 8 + hb.length;
  for (const p of parts) {
    off = Math.ceil(off / 8) * 8;
    out.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), off);
    off += p.byteLength;
  }
  return out;
}

/**
 * Reads what `packParts` wrote: returns the header after `check` accepts it, then fills `parts`
 * (same order and sizes as written) in place. `fail` receives what was wrong and must throw.
 */
export function unpackParts(bytes: Uint8Array, parts: readonly ArrayBufferView[], check: (header: Record<string, unknown>) => boolean, fail: (what: string) => never): Record<string, unknown> {
  if (bytes.byteLength < 8) fail('a truncated file');
  const hl = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
  let h: Record<string, unknown>;
  try {
    h = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + hl))) as Record<string, unknown>;
  } catch {
    return fail('an unreadable header');
  }
  if (!h || typeof h !== 'object' || !check(h)) fail(`header ${JSON.stringify(h).slice(0, 200)}`);
  let off = 8 + hl;
  for (const p of parts) {
    off = Math.ceil(off / 8) * 8;
    if (off + p.byteLength > bytes.byteLength) fail('a truncated file');
    new Uint8Array(p.buffer, p.byteOffset, p.byteLength).set(bytes.subarray(off, off + p.byteLength));
    off += p.byteLength;
  }
  return h;
}
