/**
 * The name of each target in files: `-o DIR/<name>`, `--mark`'s `DIR/1failed/<name>`, and the
 * `{host}` of push/pull. It is what the user wrote (an ssh config alias stays an alias, so that
 * `-t DIR/1failed` reaches the same hosts through the same ProxyJump), made longer only where two
 * targets of one run would otherwise share it: first the user (`bob@fit01`), then the gateways
 * (`gw->bob@fit01`). Every form is itself a target.
 */
import { hostText } from '@jobgraph/ssh';
import { type Hop, type Target, targetText } from './resolve.js';

/** `alias`, `alias:port` when the port is not what the alias alone would give, IPv6 in brackets. */
function hostPart(hop: Hop): string {
  const usual = hop.config?.port ?? 22;
  return hop.port === usual ? hostText(hop.alias) : `${hostText(hop.alias)}:${hop.port}`;
}

const levels: ReadonlyArray<(target: Target) => string> = [
  (target) => hostPart(target.host),
  (target) => `${target.host.user}@${hostPart(target.host)}`,
  (target) => [...target.gateways, target.host].map((hop) => `${hop.user}@${hostPart(hop)}`).join('->'),
  // two different targets cannot share this one
  (target) => targetText(target),
];

/**
 * Every name `target` can have, whatever the other targets of a run: a file under any of them
 * is this target's (an earlier run, with other targets beside it, may have named it otherwise).
 */
export function targetNameForms(target: Target): string[] {
  return [...new Set(levels.map((level) => level(target)))];
}

/**
 * The names `target` may have had in an earlier run that no target of this one holds (`current`:
 * this run's names): its files under them are stale (its output, its marks).
 */
export function earlierNameForms(target: Target, current: ReadonlySet<string>): string[] {
  return targetNameForms(target).filter((form) => !current.has(form));
}

/** The directories `--mark` makes beside the output files: no target's file may take their name. */
const MARK_DIRECTORIES = new Set(['0ok', '1failed']);

/**
 * The file name of each target, unique among `targets`, and apart from the other targets' files:
 * a target named `a.err` beside one named `a` would write `a`'s stderr file (the two streams were
 * mixed, or lost), one named `0ok` a mark directory: those take a longer form.
 * @example
 * targetNames([fit01, bobOnFit01, fit02])   // fit01 → "root@fit01", bob's → "bob@fit01", fit02 → "fit02"
 */
export function targetNames(targets: readonly Target[]): Map<Target, string> {
  const names = new Map<Target, string>();
  let pending = [...targets];
  for (const level of levels) {
    const counts = new Map<string, number>();
    for (const target of pending) counts.set(level(target), (counts.get(level(target)) ?? 0) + 1);
    const others = new Set([...names.values(), ...counts.keys()]);
    const stderrOfAnother = (name: string) =>
      name.endsWith('.err') && others.has(name.slice(0, -'.err'.length));
    const clashing: Target[] = [];
    for (const target of pending) {
      const name = level(target);
      if (counts.get(name) === 1 && !MARK_DIRECTORIES.has(name) && !stderrOfAnother(name))
        names.set(target, name);
      else clashing.push(target);
    }
    pending = clashing;
    if (pending.length === 0) break;
  }
  for (const target of pending) names.set(target, targetText(target));
  return names;
}
