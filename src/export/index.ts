export * from './export-policy.js';
export * from './ladder.js';
export * from './onnx-export.js';
