/** Fetch helpers of the viewer app: bounded downloads and JSON. */

export const enc = encodeURIComponent;

/**
 * Fetches at most `limit` bytes of `url`: refused before reading when Content-Length says more,
 * cut while streaming otherwise, so a huge file never fills the tab's memory. `truncated` tells
 * whether the body went on past `limit` (only where `cut` allows it; else that is an error).
 */
export async function fetchBounded(url: string, limit: number, what: string, cut = false): Promise<{ bytes: Uint8Array; truncated: boolean }> {
  // Aborting (not just cancelling the body) closes the connection, so the server stops sending.
  const abort = new AbortController();
  const r = await fetch(url, { signal: abort.signal });
  if (!r.ok) throw new Error(`HTTP ${r.status} ${r.statusText}`.trim());
  const declared = Number(r.headers.get('content-length') ?? NaN);
  const tooBig = `${what} is larger than the viewer reads (${limit} bytes)`;
  if (!cut && Number.isFinite(declared) && declared > limit) {
    abort.abort();
    throw new Error(tooBig);
  }
  const reader = r.body!.getReader();
  const parts: Uint8Array[] = [];
  let n = 0;
  let truncated = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (n + value.length > limit) {
      abort.abort();
      if (!cut) throw new Error(tooBig);
      parts.push(value.subarray(0, limit - n));
      n = limit;
      truncated = true;
      break;
    }
    parts.push(value);
    n += value.length;
  }
  const bytes = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    bytes.set(p, o);
    o += p.length;
  }
  return { bytes, truncated };
}

export async function getJson<T>(url: string): Promise<T> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return (await r.json()) as T;
}

