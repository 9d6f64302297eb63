/**
 * @jobgraph/deferred: values computed during a run, and templates rendered with them.
 * @packageDocumentation
 */
export { Capture } from './capture.js';
export { Variables } from './variables.js';
