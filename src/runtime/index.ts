export { loadPolicy, type LoadPolicyOptions } from './load-policy.js';
export { Policy, type PolicyAction, type PolicyActOptions, type PolicyObservation } from './policy.js';
export { NpcState } from './npc-state.js';
export { PolicyController, ControlledNpc, type ControllerOptions } from './controller.js';
export { FramePipeline } from './frame-pipeline.js';
export { POLICY_FORMAT, POLICY_VERSION, POLICY_VERSIONS, MAX_DECISION_PERIOD, parsePolicyFile, checkPreprocessChain, outputWidth, type PolicyFile, type PolicyActionSpace, type PreprocessStep } from './policy-file.js';
export * from '../errors.js';
// The game picks the tfjs backend the policy runs on ('webgl' or 'cpu' in a page; 'wasm' after
// importing @tensorflow/tfjs-backend-wasm); re-exported so a game using @npcforge/runtime alone
// needs no tfjs import of its own.
export { setBackend, getBackend } from '@tensorflow/tfjs';
