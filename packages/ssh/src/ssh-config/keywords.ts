/**
 * The keywords ssh_config(5) knows. ssh refuses a line whose keyword it does not know
 * ("Bad configuration option"), unless `IgnoreUnknown` lists it: a misspelt `Hots web`
 * would otherwise be skipped and the settings under it land in the block above.
 */
import { matchPatternList } from './patterns.js';
import { ConfigProblem, show, type Where } from './problem.js';

/**
 * OpenSSH's client keywords up to 10.2, with Debian's GSSAPI ones, those ssh accepts as
 * deprecated or unsupported (read, then ignored), and Apple's `UseKeychain`.
 */
const KEYWORDS = [
  'AddKeysToAgent',
  'AddressFamily',
  'BatchMode',
  'BindAddress',
  'BindInterface',
  'CanonicalDomains',
  'CanonicalizeFallbackLocal',
  'CanonicalizeHostname',
  'CanonicalizeMaxDots',
  'CanonicalizePermittedCNAMEs',
  'CASignatureAlgorithms',
  'CertificateFile',
  'ChallengeResponseAuthentication',
  'ChannelTimeout',
  'CheckHostIP',
  'Cipher',
  'Ciphers',
  'ClearAllForwardings',
  'Compression',
  'CompressionLevel',
  'ConnectionAttempts',
  'ConnectTimeout',
  'ControlMaster',
  'ControlPath',
  'ControlPersist',
  'DynamicForward',
  'EnableEscapeCommandline',
  'EnableSSHKeysign',
  'EscapeChar',
  'ExitOnForwardFailure',
  'FingerprintHash',
  'ForkAfterAuthentication',
  'ForwardAgent',
  'ForwardX11',
  'ForwardX11Timeout',
  'ForwardX11Trusted',
  'GatewayPorts',
  'GlobalKnownHostsFile',
  'GlobalKnownHostsFile2',
  'GSSAPIAuthentication',
  'GSSAPIClientIdentity',
  'GSSAPIDelegateCredentials',
  'GSSAPIKexAlgorithms',
  'GSSAPIKeyExchange',
  'GSSAPIRenewalForcesRekey',
  'GSSAPIServerIdentity',
  'GSSAPITrustDns',
  'HashKnownHosts',
  'Host',
  'HostbasedAcceptedAlgorithms',
  'HostbasedAuthentication',
  'HostbasedKeyTypes',
  'HostKeyAlgorithms',
  'HostKeyAlias',
  'HostName',
  'IdentitiesOnly',
  'IdentityAgent',
  'IdentityFile',
  'IdentityFile2',
  'IgnoreUnknown',
  'Include',
  'IPQoS',
  'KbdInteractiveAuthentication',
  'KbdInteractiveDevices',
  'KexAlgorithms',
  'KnownHostsCommand',
  'LocalCommand',
  'LocalForward',
  'LogLevel',
  'LogVerbose',
  'MACs',
  'Match',
  'NoHostAuthenticationForLocalhost',
  'NumberOfPasswordPrompts',
  'ObscureKeystrokeTiming',
  'PasswordAuthentication',
  'PermitLocalCommand',
  'PermitRemoteOpen',
  'PKCS11Provider',
  'Port',
  'PreferredAuthentications',
  'Protocol',
  'ProxyCommand',
  'ProxyJump',
  'ProxyUseFdpass',
  'PubkeyAcceptedAlgorithms',
  'PubkeyAcceptedKeyTypes',
  'PubkeyAuthentication',
  'RefuseConnection',
  'RekeyLimit',
  'RemoteCommand',
  'RemoteForward',
  'RequestTTY',
  'RequiredRSASize',
  'RevokedHostKeys',
  'SecurityKeyProvider',
  'SendEnv',
  'ServerAliveCountMax',
  'ServerAliveInterval',
  'SessionType',
  'SetEnv',
  'SetupTimeOut',
  'SmartcardDevice',
  'StdinNull',
  'StreamLocalBindMask',
  'StreamLocalBindUnlink',
  'StrictHostKeyChecking',
  'SyslogFacility',
  'Tag',
  'TCPKeepAlive',
  'Tunnel',
  'TunnelDevice',
  'UpdateHostKeys',
  'User',
  'UserKnownHostsFile',
  'UserKnownHostsFile2',
  'VerifyHostKeyDNS',
  'VersionAddendum',
  'VisualHostKey',
  'WarnWeakCrypto',
  'XAuthLocation',
  // deprecated or unsupported: ssh says so and goes on
  'AFSTokenPassing',
  'DSAAuthentication',
  'FallBackToRsh',
  'KerberosAuthentication',
  'KerberosTGTPassing',
  'ProtocolKeepAlives',
  'RhostsAuthentication',
  'RhostsRSAAuthentication',
  'RSAAuthentication',
  'SKeyAuthentication',
  'TISAuthentication',
  'UseBlacklistedKeys',
  'UsePrivilegedPort',
  'UseRoaming',
  // TCPKeepAlive's old name, still read
  'KeepAlive',
  'UseRsh',
  // macOS's ssh
  'UseKeychain',
];

/** Each keyword by its lower-cased name, as the lexer gives it. */
const BY_LOWER = new Map(KEYWORDS.map((keyword) => [keyword.toLowerCase(), keyword]));

/** Every keyword, as ssh_config(5) spells it (a test holds the list to the ssh binary's). */
export const KNOWN_KEYWORDS: readonly string[] = KEYWORDS;

/** Whether ssh knows `keyword` (lower-cased). */
export function isKnownKeyword(keyword: string): boolean {
  return BY_LOWER.has(keyword);
}

/** Levenshtein distance, stopping early: only distances up to 2 are of interest. */
function distance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return previous[b.length] ?? 3;
}

/** The known keyword `keyword` most likely misspells (at most 2 edits away), if any. */
function likelyMeant(keyword: string): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const [lower, name] of BY_LOWER) {
    const edits = distance(keyword, lower);
    if (edits < bestDistance) {
      best = name;
      bestDistance = edits;
    }
  }
  return best;
}

/**
 * Refuses a keyword ssh does not know, unless the `IgnoreUnknown` pattern list (the first
 * one set, as ssh keeps it) matches it.
 * @throws ConfigProblem naming the keyword and the one it likely misspells
 */
export function checkKeyword(keyword: string, ignoreUnknown: string | undefined, where: Where): void {
  if (isKnownKeyword(keyword)) return;
  if (ignoreUnknown !== undefined && matchPatternList(keyword, ignoreUnknown, true)) return;
  const meant = likelyMeant(keyword);
  throw new ConfigProblem(
    `unknown keyword ${show(keyword)}${meant === undefined ? '' : ` (did you mean ${meant}?)`}: ssh refuses it too; list it in IgnoreUnknown to skip it`,
    where,
  );
}
