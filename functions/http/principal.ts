import type { Context } from 'hono';
import type { KeyAuthEnv } from './key-auth.ts';

/** Who did it, as audit entries name them. */
export const actorOf = (c: Context<KeyAuthEnv>) => `key:${c.get('principal').keyPrefix}`;
export const tenantOf = (c: Context<KeyAuthEnv>) => c.get('principal').tenantId;
