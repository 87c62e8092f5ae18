// The Keras example (ImageDataGenerator + flow_from_directory -> Sequential CNN -> compile -> fit
// -> predict one image), step by step with npcforge's API. The Python it mirrors is in README.md.
// Run: node examples/keras-style-image/train.mjs --data data/fm224 [--size 224] [--epochs 5]
//        [--predict <png>] [--json]
import * as tf from '@tensorflow/tfjs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend, SeededRng } from 'npcforge';
import { buildConvClassifier, decodeImage, evaluateLoss, fitClassifier, listImageFolder, predictProbabilities, resolveFitConfig, splitImageSource } from 'npcforge/supervised';

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    size: { type: 'string', default: '224' },
    epochs: { type: 'string', default: '5' },
    'batch-size': { type: 'string', default: '32' },
    seed: { type: 'string', default: '0' },
    predict: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean' },
  },
});
const usage = 'usage: node train.mjs --data <folder with train/<class>/ and test/<class>/> [--size 224] [--epochs 5] [--batch-size 32] [--seed 0] [--predict <png>] [--json]';
if (values.help) {
  console.log(usage);
  process.exit(0);
}
if (!values.data) {
  console.error(usage);
  process.exit(2);
}
const int = (name, min) => {
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n < min) {
    console.error(`train.mjs: expected --${name} an integer >= ${min}, received ${JSON.stringify(values[name])}; fix: pass e.g. --${name} ${min}`);
    process.exit(2);
  }
  return n;
};
const size = int('size', 8);
const epochs = int('epochs', 1);
const batchSize = int('batch-size', 1);
const seed = int('seed', 0);
const t0 = performance.now();
await initBackend({ quiet: values.json === true });

// 1. train_datagen = ImageDataGenerator(rescale=1./255, validation_split=0.1)
//    train_generator = train_datagen.flow_from_directory('train', target_size=(224, 224),
//                          color_mode='grayscale', batch_size=32, class_mode='categorical')
//    Sub-folders are the classes (sorted by name); pixels come scaled to [0, 1]; batches are
//    streamed from disk (the batch size is given to fit, step 4).
const format = { height: size, width: size, channels: 1 };
const all = await listImageFolder(join(values.data, 'train'), format);
const { train, validation } = splitImageSource(all, 0.1, new SeededRng(seed), null);
const numClasses = all.classes.length;

// 2. model = Sequential([Conv2D(32, 3, activation='relu', input_shape=(224, 224, 1)), MaxPooling2D(2),
//                        Conv2D(64, 3, activation='relu'), MaxPooling2D(2), Flatten(),
//                        Dense(128, activation='relu'), Dropout(0.3), Dense(num_classes)])
//    The last layer gives logits; softmax is part of the loss and of predict.
const model = buildConvClassifier({ inputShape: [size, size, 1], numClasses, blockFilters: [32, 64], kernelSize: 3, denseUnits: [128], dropout: 0.3, seed });
model.summary(undefined, undefined, (line) => values.json || console.log(line));

// 3. model.compile(optimizer=Adam(learning_rate=1e-3), loss='categorical_crossentropy', metrics=['accuracy'])
const compiled = resolveFitConfig({ learningRate: 1e-3, batchSize, epochs, seed, patience: 0 });

// 4. model.fit(train_generator, epochs=5, validation_data=validation_generator)
const { history } = await fitClassifier(model, train, validation, numClasses, compiled, { progress: values.json ? null : process.stderr });
const trainSeconds = (performance.now() - t0) / 1000;

// model.evaluate(test_generator): the held-out test/ folder, same classes.
const testSet = await listImageFolder(join(values.data, 'test'), format);
const test = await evaluateLoss(model, testSet, numClasses, batchSize);

// 5. img = image.load_img('test/<class>/x.png', target_size=(224, 224), color_mode='grayscale')
//    x = np.expand_dims(image.img_to_array(img) / 255., 0); probs = model.predict(x)
const firstClass = testSet.classes[0];
const imagePath = values.predict ?? join(values.data, 'test', firstClass, (await readdir(join(values.data, 'test', firstClass))).sort()[0]);
const x = tf.tensor4d(await decodeImage(imagePath, format), [1, size, size, 1]);
const probs = await predictProbabilities(model, x, numClasses);
x.dispose();
const best = probs.indexOf(Math.max(...probs));

const result = {
  classes: all.classes,
  trainSamples: train.size,
  validationSamples: validation.size,
  testSamples: testSet.size,
  history,
  testAccuracy: test.accuracy,
  testLoss: test.loss,
  predicted: { image: imagePath, label: all.classes[best], probability: probs[best] },
  seconds: trainSeconds,
};
if (values.json) console.log(JSON.stringify(result));
else {
  console.log(`test accuracy ${(test.accuracy * 100).toFixed(1)}% on ${testSet.size} images (${trainSeconds.toFixed(0)} s of training)`);
  console.log(`${imagePath}: ${all.classes[best]} (${(probs[best] * 100).toFixed(1)}%)`);
}
model.dispose();
