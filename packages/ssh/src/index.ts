/**
 * @jobgraph/ssh
 * @packageDocumentation
 */
export { CommandFailedError, SshError, SshErrorCode } from './errors.js';
