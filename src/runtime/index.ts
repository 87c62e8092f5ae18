export { loadPolicy, loadValueModel, type LoadPolicyOptions } from './load-policy.js';
export { loadLadder, type Ladder, type LoadLadderOptions } from './load-ladder.js';
export { LADDER_FORMAT, LADDER_VERSION, LADDER_NAME, MAX_LADDER_LEVELS, parseLadderFile, type LadderFile, type LadderLevel } from './ladder-file.js';
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
