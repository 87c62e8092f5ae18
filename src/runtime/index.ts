export { loadPolicy, type LoadPolicyOptions } from './load-policy.js';
export { Policy, type PolicyAction, type PolicyActOptions } from './policy.js';
export { FramePipeline } from './frame-pipeline.js';
export { POLICY_FORMAT, POLICY_VERSION, POLICY_VERSIONS, parsePolicyFile, checkPreprocessChain, outputWidth, type PolicyFile, type PolicyActionSpace, type PreprocessStep } from './policy-file.js';
export * from '../errors.js';
