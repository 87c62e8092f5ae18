// Resizes a folder made by `npcforge data fashion-mnist` (28x28 PNGs in <split>/<class>/) to
// SIZE x SIZE grayscale PNGs in the same layout, the input of the Keras-style example.
// Run: node examples/keras-style-image/resize.mjs --from data/fm --out data/fm224 [--size 224]
import sharp from 'sharp';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { from: { type: 'string' }, out: { type: 'string' }, size: { type: 'string', default: '224' }, help: { type: 'boolean' } } });
const usage = 'usage: node resize.mjs --from <folder from `npcforge data fashion-mnist`> --out <folder> [--size 224]';
if (values.help) {
  console.log(usage);
  process.exit(0);
}
if (!values.from || !values.out) {
  console.error(usage);
  process.exit(2);
}
const size = Number(values.size);
if (!Number.isInteger(size) || size < 8 || size > 1024) {
  console.error(`resize.mjs: expected --size an integer in [8, 1024], received ${JSON.stringify(values.size)}; fix: pass e.g. --size 224`);
  process.exit(2);
}

let count = 0;
for (const split of ['train', 'test']) {
  const classes = (await readdir(join(values.from, split), { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
  for (const c of classes) {
    await mkdir(join(values.out, split, c), { recursive: true });
    for (const f of (await readdir(join(values.from, split, c))).filter((n) => n.endsWith('.png'))) {
      // Bilinear upscaling of the 28x28 originals, one channel.
      await sharp(join(values.from, split, c, f)).resize(size, size, { kernel: 'linear' }).toColourspace('b-w').png().toFile(join(values.out, split, c, f));
      count++;
    }
  }
}
console.log(`resized ${count} images to ${size}x${size} -> ${values.out}`);
