/**
 * flackyness-reporter: a Playwright reporter that streams results with CI metadata to a
 * Flackyness server. The wire protocol's schemas are at `flackyness-reporter/protocol`.
 */
import FlackynessReporter from './reporter.js';

export default FlackynessReporter;
export type { FailOn, FlackynessOptions, MergeMode, QuarantineMode } from './options.js';
