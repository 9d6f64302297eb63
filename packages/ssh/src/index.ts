/**
 * @jobgraph/ssh: jobgraph over SSH — nodes and gateways, SshJob and its commands,
 * formatters, keys and host-key checking.
 * @packageDocumentation
 */
export {
  AbstractCommand,
  type Arg,
  type CommandContext,
  type CommandOptions,
  MAX_CAPTURE_CHARS,
  type Renderable,
} from './commands/command.js';
export { Pull } from './commands/pull.js';
export { Push } from './commands/push.js';
export { Run, type RunOptions } from './commands/run.js';
export { RunScript } from './commands/run-script.js';
export { RunString, type RunStringOptions } from './commands/run-string.js';
export { REMOTE_DIR, type ScriptOptions } from './commands/script.js';
export {
  Service,
  type ServiceJournalOptions,
  type ServiceOptions,
  type ServiceStatusOptions,
} from './commands/service.js';
export type { TransferOptions } from './commands/transfer.js';
export { endpointText, hostText } from './endpoint-text.js';
export { CommandFailedError, SshError, SshErrorCode } from './errors.js';
export type { FleetCommand, HostArg, HostArgs } from './fleet/command.js';
export {
  type FleetCopyFromOptions,
  type FleetCopyOptions,
  type FleetCopyResult,
  type HostPath,
  safeHostName,
} from './fleet/copy.js';
export type { FleetValue } from './fleet/each.js';
export { Fleet, type FleetFromHostsOptions, type FleetOptions, type FleetRunOptions } from './fleet/fleet.js';
export { FleetError, type FleetOutcome } from './fleet/fleet-error.js';
export type { FleetFs } from './fleet/fleet-fs.js';
export { type FleetCommandOptions, type FleetJoin, type FleetResult, FleetRun } from './fleet/fleet-run.js';
export {
  type FleetHost,
  type HostLike,
  type HostOptions,
  type HostSettings,
  type NamedNode,
  parseHost,
} from './fleet/hosts.js';
export type { FleetHostJSON, FleetJSON } from './fleet/serialize.js';
export * from './formatters/index.js';
export type { FsErrorCode } from './fs/fs-errors.js';
export type {
  FsCallOptions,
  FsDirEntry,
  FsFileType,
  FsGlobOptions,
  FsMkdirOptions,
  FsReadOptions,
  FsReadTextOptions,
  FsRmOptions,
  FsStat,
  FsWriteOptions,
  RemoteFs,
} from './fs/remote-fs.js';
export {
  DEFAULT_KEY_FILES,
  encryptedDefaultKeys,
  importPrivateKey,
  type KeyFile,
  type KeySpec,
  loadAgentKeys,
  loadPrivateKeys,
} from './keys.js';
export { fingerprint, type HostKeyPolicy, knownHostName } from './known-hosts.js';
export { LocalNode, type LocalNodeOptions } from './local-node.js';
export type { CommandNode, CommandResult, OutputProgress, RunRequest } from './node.js';
export type { CommandIoOptions } from './run-options.js';
export { attachSshEvents } from './scheduler-events.js';
export {
  type ConfigNodeOptions,
  configNodeOptions,
  type ResolvedHost,
  type ResolveSshConfigOptions,
  resolveSshConfig,
} from './ssh-config.js';
export {
  type CommandLike,
  type CommandSpec,
  normalizeCommands,
  SshJob,
  type SshJobOptions,
} from './ssh-job.js';
export { closeAll } from './ssh-node/connection-registry.js';
export { localUsername } from './ssh-node/local-user.js';
export { shellQuote } from './ssh-node/shell.js';
export { SshNode, type SshNodeOptions } from './ssh-node.js';
export type { SudoOptions, SudoRequest } from './sudo.js';
export {
  type CloseSshOptions,
  closeSshInScheduler,
  topologyAsDotfile,
  topologyAsPngfile,
  topologyAsSvgfile,
  topologyDot,
} from './topology.js';
export type { AgentKey, PrivateKey } from './transport/transport.js';
