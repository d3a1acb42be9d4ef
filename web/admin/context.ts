/** What every console page handler knows: the session and who signed in. */
import type { Context } from 'hono';
import type { AdminPrincipal } from '../../functions/core/admin-accounts.ts';
import type { WebSession } from '../../functions/core/web-sessions.ts';

export type ConsoleEnv = { Variables: { session: WebSession; admin: AdminPrincipal } };
export type ConsoleContext = Context<ConsoleEnv>;

/** The audit actor of a console action: the person, not a key. */
export const actorOf = (c: ConsoleContext) => `admin:${c.get('admin').email}`;
/** The tenant of a tenant admin or auditor: every page reads and writes only this one. */
export const tenantOf = (c: ConsoleContext) => c.get('admin').tenantId;
export const csrfOf = (c: ConsoleContext) => c.get('session').csrf;
export const canWrite = (c: ConsoleContext) => c.get('admin').role !== 'auditor';

/** A form's fields as strings (the last value of a repeated name); files are left out. */
export async function formOf(c: Context): Promise<Record<string, string>> {
  const body = await c.req.parseBody({ all: true });
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(body)) {
    const last = Array.isArray(value) ? value.at(-1) : value;
    if (typeof last === 'string') out[name] = last;
  }
  return out;
}

/** Every value of a repeated field (checkbox groups). */
export async function valuesOf(c: Context, name: string): Promise<string[]> {
  const body = await c.req.parseBody({ all: true });
  const value = body[name];
  const list = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return list.filter((v): v is string => typeof v === 'string');
}
