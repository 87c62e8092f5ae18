/** Public API of the supervised image / speech / text pipelines. */
export * from './data-source.js';
export * from './fit.js';
export * from './metrics.js';
export * from './model-io.js';
export * from './run.js';
export * from './image/loader.js';
export * from './speech/features.js';
export * from './speech/wav.js';
export * from './speech/loader.js';
export * from './speech/generate.js';
export * from './text/tokenizer.js';
export * from './text/loader.js';
export * from './data/image-datasets.js';
export * from './data/text-datasets.js';
export * from '../networks/transformer.js';
export * from '../networks/conv-classifier.js';
export * from '../networks/lstm-classifier.js';
