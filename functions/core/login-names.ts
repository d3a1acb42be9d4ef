/**
 * Reads what a challenge needs (key, tenant, the user and its guard) under the user's canonical name, in one
 * batch read on the usual path.
 *
 * The canonical name depends on the tenant's username policy, which lives on the tenant item that the same
 * batch reads. So the name is first mapped with the policy this instance saw last for the tenant (a hint), and
 * checked against the policy just read: only when they disagree (a cold instance, or the admin just changed
 * the policy) is the user read again under the right name. Whether that second read happens depends on the
 * tenant alone, never on the typed name, so it tells nothing about which users exist.
 */
import type { ParsedKey } from './api-keys.ts';
import type { DirectoryStore } from './ports/directory.ts';
import { resolveTyped, type UsernameContext } from './usernames.ts';

/** Tenants whose policy an instance remembers; past this the oldest is forgotten (it only costs a read). */
const MAX_HINTS = 1000;

export type LoginLoad = Awaited<ReturnType<DirectoryStore['loadForRequest']>> & {
  /** The canonical name (or, for a form the tenant refuses, the typed text): limits and lockout key on it. */
  username: string;
};

export class LoginNames {
  private readonly hints = new Map<string, UsernameContext>();

  constructor(private readonly directory: DirectoryStore) {}

  async load(key: ParsedKey, typed: string): Promise<LoginLoad> {
    const hint = this.hints.get(key.tenantId);
    const guess = hint ? resolveTyped(hint, typed).name : typed;
    let loaded = await this.directory.loadForRequest(key.hash, key.tenantId, { username: guess });
    const tenant = loaded.tenant;
    if (!tenant) return { ...loaded, username: typed };
    this.remember(key.tenantId, { usernames: tenant.usernames, adDomains: tenant.adDomains });
    const resolved = resolveTyped(tenant, typed);
    if (resolved.name.toLowerCase() !== guess.toLowerCase())
      loaded = await this.directory.loadForRequest(key.hash, key.tenantId, { username: resolved.name });
    // A refused form names nobody, even if an item happens to sit under that text (e.g. an old-format name
    // awaiting its rename): it is answered as an unknown name.
    const { user, ...rest } = loaded;
    if (user && resolved.known) return { ...rest, user, username: user.username };
    return { ...rest, username: resolved.name };
  }

  private remember(tenantId: string, ctx: UsernameContext) {
    this.hints.delete(tenantId);
    if (this.hints.size >= MAX_HINTS) this.hints.delete(this.hints.keys().next().value!);
    this.hints.set(tenantId, ctx);
  }
}
