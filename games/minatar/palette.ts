/**
 * The fixed RGB colour of every MinAtar channel and the grid-to-pixels drawing rule: each cell
 * takes the colour of its highest-numbered lit channel (later channels are drawn over earlier
 * ones); cells with no lit channel are black.
 */
import { GRID, type MinAtarGameName } from './game.js';

/** Colour per channel, in channel order, as [r, g, b] (0..255). */
export const MINATAR_PALETTES: Readonly<Record<MinAtarGameName, ReadonlyArray<readonly [number, number, number]>>> = {
  // player, enemy, trail, gold
  asterix: [[60, 180, 255], [230, 60, 60], [100, 100, 100], [255, 200, 40]],
  // paddle, ball, trail, brick
  breakout: [[60, 180, 255], [255, 255, 255], [100, 100, 100], [230, 120, 60]],
  // chicken, car, speed1..speed5 (trails darker for slower cars)
  freeway: [[255, 230, 60], [230, 60, 60], [60, 60, 110], [80, 80, 150], [100, 100, 190], [120, 120, 225], [140, 140, 255]],
  // sub_front, sub_back, friendly_bullet, trail, enemy_bullet, enemy_fish, enemy_sub, oxygen_guage, diver_guage, diver
  seaquest: [
    [255, 230, 60], [200, 170, 40], [255, 255, 255], [100, 100, 100], [255, 130, 130],
    [230, 60, 60], [170, 60, 210], [60, 200, 120], [60, 180, 255], [120, 230, 255],
  ],
  // cannon, alien, alien_left, alien_right, friendly_bullet, enemy_bullet (an alien shows the colour of its direction)
  space_invaders: [[60, 180, 255], [230, 60, 60], [230, 90, 60], [230, 60, 150], [255, 255, 255], [255, 200, 40]],
};

/** The palette of a game as a flat `C * 3` byte array. */
export function paletteBytes(game: MinAtarGameName): Uint8Array {
  return Uint8Array.from(MINATAR_PALETTES[game].flat());
}

let rowScratch = new Uint8Array(0);

/**
 * Draws a `[10, 10, C]` 0/1 grid into `out` (`[10 * cellSize, 10 * cellSize, 3]`, must be all
 * zeros): each cell is filled with the colour of its highest lit channel.
 */
export function drawGrid(grid: Uint8Array, channels: number, palette: Uint8Array, cellSize: number, out: Uint8Array): void {
  const rowBytes = GRID * cellSize * 3;
  const cellBytes = cellSize * 3;
  // One pixel row is built in a small cache-hot scratch, then copied out with wide copies: `out`
  // is usually freshly allocated (cold) memory, where single-byte stores are slow.
  if (rowScratch.length !== rowBytes) rowScratch = new Uint8Array(rowBytes);
  const row0 = rowScratch;
  for (let row = 0; row < GRID; row++) {
    let lit = false;
    for (let col = 0; col < GRID; col++) {
      const base = (row * GRID + col) * channels;
      let ch = channels - 1;
      while (ch >= 0 && grid[base + ch] === 0) ch--;
      let p = col * cellBytes;
      const end = p + cellBytes;
      if (ch < 0) {
        if (lit) row0.fill(0, p, end);
        continue;
      }
      if (!lit) {
        if (col > 0) row0.fill(0, 0, p);
        lit = true;
      }
      const r = palette[ch * 3]!;
      const g = palette[ch * 3 + 1]!;
      const b = palette[ch * 3 + 2]!;
      for (; p < end; p += 3) {
        row0[p] = r;
        row0[p + 1] = g;
        row0[p + 2] = b;
      }
    }
    if (!lit) continue;
    const top = row * cellSize * rowBytes;
    out.set(row0, top);
    // The other pixel rows of this cell row are copies, doubling each time.
    for (let done = 1; done < cellSize; done *= 2) {
      const n = Math.min(done, cellSize - done);
      out.copyWithin(top + done * rowBytes, top, top + n * rowBytes);
    }
  }
}
