/** Small helpers for drawing RGB frames (row-major, 3 bytes per pixel). */

/** Fills a `w` x `h` rectangle at (`x`, `y`) of a frame `width` pixels wide; no clipping. */
export function fillRect(data: Uint8Array, width: number, x: number, y: number, w: number, h: number, r: number, g: number, b: number): void {
  if (w <= 0 || h <= 0) return;
  const start = (y * width + x) * 3;
  const end = start + w * 3;
  for (let i = start; i < end; i += 3) {
    data[i] = r;
    data[i + 1] = g;
    data[i + 2] = b;
  }
  const stride = width * 3;
  for (let row = 1; row < h; row++) data.copyWithin(start + row * stride, start, end);
}

/** A frame of one colour. */
export function solidFrame(width: number, height: number, r: number, g: number, b: number): Uint8Array {
  const data = new Uint8Array(width * height * 3);
  fillRect(data, width, 0, 0, width, height, r, g, b);
  return data;
}
