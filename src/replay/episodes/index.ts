export * from './format.js';
export { EpisodeEncoder, encodeEpisode, DEFAULT_COMPRESSION_LEVEL, type EpisodeAction, type EpisodeStart, type RecordedStep, type MultiAgentRecordedStep, type EpisodeEncoderOptions } from './encoder.js';
export { readEpisode, RecordedEpisode, type AgentTrack, type ReadEpisodeOptions } from './reader.js';
export { readEpisodeFile, readEpisodeBytes } from './read-file.js';
export { EpisodeFileWriter, PARTIAL_SUFFIX, type EpisodeFileWriterOptions } from './writer.js';
export { RecordEpisode, type RecordEpisodeOptions, type RecordedFile } from './record-episode.js';
export { verifyEpisode, ReplayMismatchError, type VerifyResult } from './verify.js';
export { recordPolicyEpisode, annotationFromInfo, type PolicyDecision, type RecordingPolicy, type RecordPolicyEpisodeOptions } from './record-policy.js';
export { RecordMultiAgentEpisode, type RecordMultiAgentEpisodeOptions } from './record-multi-agent.js';
