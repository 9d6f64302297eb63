/**
 * Resolution of one host — its settings expanded — and of its ProxyJump route, each hop
 * through its own Host blocks, the way ssh runs a chain (`ssh -J a,b host` reaches b with
 * `-J a`, and a with a's own ProxyJump), with the jump loops ssh would recurse into refused.
 */
import { ConfigProblem, show, type Where } from './problem.js';
import type { JumpItem } from './proxy-jump.js';
import type { Session } from './session.js';
import { expandHostName, expandPath, expandTokens, jumpTokens, pathTokens } from './tokens.js';
import type { ResolvedHost } from './types.js';
import { collectSettings, type Seed } from './walk.js';

/** The deepest a ProxyJump chain may go, hops of hops included (ssh has no bound: it recurses until it fails). */
export const MAX_JUMP_DEPTH = 16;

/** A host being resolved through its own ProxyJump, for loop detection. */
export interface Pending {
  readonly key: string;
  readonly label: string;
}

/** What identifies a jump target: ssh loops when it reaches the same user, host and port again. */
export function pendingKey(host: string, user: string | undefined, port: number | undefined): string {
  return `${user ?? ''}@${host}:${port ?? ''}`;
}

/**
 * The route a ProxyJump chain gives, outermost first, as ssh runs it: the last item is
 * reached with `-J` the items before it (so its own ProxyJump is ignored), recursively,
 * and the first item is resolved with its own ProxyJump, whose route comes first.
 */
async function resolveRoute(
  items: readonly JumpItem[],
  where: Where | undefined,
  session: Session,
  pending: readonly Pending[],
): Promise<ResolvedHost[]> {
  const [first, ...others] = items as [JumpItem, ...JumpItem[]];
  // a chain that makes a new name at each hop (`ProxyJump %h-x`) is no loop of names: bounded
  // (pending holds the host itself, then each hop on the way)
  if (pending.length > MAX_JUMP_DEPTH) {
    const chain = [...pending.map((p) => p.label), first.text].slice(0, 6).join(' -> ');
    throw new ConfigProblem(`ProxyJump chain deeper than ${MAX_JUMP_DEPTH} hops: ${chain} -> …`, where);
  }
  const key = pendingKey(first.host, first.user, first.port);
  if (pending.some((p) => p.key === key)) {
    const chain = [...pending.map((p) => p.label), first.text].join(' -> ');
    throw new ConfigProblem(`ProxyJump loop: ${chain}`, where);
  }
  const outermost = await resolveHop(first, {}, session, [...pending, { key, label: first.text }]);
  let route = [...outermost.jump, outermost];
  for (const item of others) {
    route = [...route, await resolveHop(item, { route }, session, pending)];
  }
  return route;
}

/** One ProxyJump item resolved through its own Host blocks, its user and port winning over them. */
async function resolveHop(
  item: JumpItem,
  seed: Seed,
  session: Session,
  pending: readonly Pending[],
): Promise<ResolvedHost> {
  try {
    return await resolveHost(item.host, { ...seed, user: item.user, port: item.port }, session, pending);
  } catch (error) {
    if (error instanceof ConfigProblem) error.hop ??= item.text;
    throw error;
  }
}

/**
 * ProxyJump items with `%h %k %n %p %r` of the host reached through them expanded: ssh
 * builds `ssh -l user -p port -J … host` from the items and expands the tokens of that
 * command line.
 */
function expandJumpItems(
  items: readonly JumpItem[],
  where: Where | undefined,
  tokens: ReturnType<typeof jumpTokens>,
): JumpItem[] {
  // a message quotes the whole item, whether its user or its host is being expanded
  const expand = (text: string, item: JumpItem) =>
    text.includes('%')
      ? expandTokens(text, tokens, where, 'ProxyJump item', { variables: false, shown: item.text })
      : text;
  return items.map((item) => ({
    ...item,
    user: item.user === undefined ? undefined : expand(item.user, item),
    host: expand(item.host, item),
  }));
}

/**
 * One host: its settings, expanded, and its route.
 * @param pending - the hosts whose ProxyJump led here, for loop detection
 * @throws ConfigProblem for anything the config says that cannot be used
 */
export async function resolveHost(
  alias: string,
  seed: Seed,
  session: Session,
  pending: readonly Pending[],
): Promise<ResolvedHost> {
  const settings = await collectSettings(alias, seed, session);
  // ssh lower-cases the host name it connects to (and records in known_hosts)
  const hostname = (
    settings.hostname === undefined ? alias : expandHostName(settings.hostname, alias)
  ).toLowerCase();
  const host = {
    alias,
    hostname,
    user: settings.user,
    port: settings.port,
    hostKeyAlias: settings.hostKeyAlias,
  };
  const tokens = pathTokens(session, host);
  const identityFiles = [
    ...new Set(
      settings.identityFiles.map((f) => expandPath(f.value, f.where, session, tokens, 'IdentityFile')),
    ),
  ];
  const knownHosts = settings.knownHosts;
  let userKnownHostsFile: string | undefined;
  if (knownHosts !== undefined) {
    userKnownHostsFile =
      knownHosts.value.toLowerCase() === 'none'
        ? '/dev/null'
        : expandPath(knownHosts.value, knownHosts.where, session, tokens, 'UserKnownHostsFile');
  }
  const command = settings.proxyCommand;
  if (command !== undefined && command.value !== 'none') {
    throw new ConfigProblem(
      `ProxyCommand is not supported (${show(command.value)}); use ProxyJump [user@]host[:port] instead`,
      command.where,
    );
  }
  const proxy = settings.proxyJump;
  let jump: ResolvedHost[] = [];
  if (seed.route !== undefined) jump = seed.route;
  else if (proxy !== undefined && Array.isArray(proxy.value)) {
    const items = expandJumpItems(proxy.value, proxy.where, jumpTokens(session, host));
    jump = await resolveRoute(items, proxy.where, session, pending);
  }
  return {
    alias,
    hostname,
    user: settings.user,
    port: settings.port,
    identityFiles,
    identitiesOnly: settings.identitiesOnly ?? false,
    userKnownHostsFile,
    strictHostKeyChecking: settings.strictHostKeyChecking,
    connectTimeout: settings.connectTimeout ? settings.connectTimeout * 1000 : undefined,
    ...(settings.hostKeyAlias === undefined ? {} : { hostKeyAlias: settings.hostKeyAlias }),
    jump,
  };
}
