/**
 * The agent's answers on `rpc/req` (functions/contracts/rpc.ts): `ad.sync`, `ad.checkPassword` and
 * `ad.setPassword`. Passwords arrive sealed for this agent's key and bound to the request; they are opened only
 * here, used for one LDAP operation, and never logged, stored or echoed.
 */
import type { KeyObject } from 'node:crypto';
import {
  Attribute,
  Change,
  InsufficientAccessError,
  InvalidCredentialsError,
  NoSuchObjectError,
} from 'ldapts';
import { parseJson } from '../../functions/contracts/index.ts';
import {
  parseRpcRequest,
  type RpcError,
  type RpcReply,
  type RpcRequest,
  rpcFail,
  rpcOk,
  rpcSealContext,
} from '../../functions/contracts/rpc.ts';
import { open, type Sealed } from '../../functions/contracts/sealed.ts';
import type { Logger } from '../log.ts';
import type { AdConfig, AdDomainConfig } from './config.ts';
import { findUserDn } from './directory.ts';
import { AdError, passwordPolicyError } from './errors.ts';
import { connectDomain, type DomainRuntime, loadDomain } from './ldap.ts';
import type { AdSync } from './sync.ts';

/** A real request is well under 4 KiB; bigger payloads are dropped unread. */
export const MAX_RPC_BYTES = 16 * 1024;

export interface AdRpcOptions {
  config: AdConfig | undefined;
  sync: AdSync | undefined;
  /** The agent's P-256 private key, which the cloud seals passwords for. */
  privateKey: KeyObject | undefined;
  log: Logger;
  now?: () => Date;
  /** Password checks and resets under way at once; more are answered `busy`. */
  maxConcurrent?: number;
}

class RpcRefusal extends Error {
  constructor(readonly error: RpcError) {
    super(error.message);
  }
}

/** AD's bind diagnostic ends in `data 52e` (wrong password), `533` (disabled), `775` (locked) and so on. */
const bindData = (err: unknown) =>
  /\bdata ([0-9a-f]{3,8})\b/i.exec((err as Error).message)?.[1]?.toLowerCase();

export interface AdRpcHandler {
  (payload: Buffer): Promise<RpcReply | undefined>;
  /**
   * A bind as the user from this box, for the RADIUS front's `ldap` first factor. Resolves when AD takes the
   * password; rejects with AD's own bind error (LDAP code 49 and its `data …` diagnostic) when it does not, and
   * an unknown user is refused the same way, so the caller cannot tell the two apart.
   */
  bindAsUser(username: string, password: string): Promise<void>;
}

/** What a refused bind looks like to the caller (code 49, `data 52e`: a wrong password). */
const refusedBind = () => Object.assign(new Error('invalid credentials (data 52e)'), { code: 49 });

export function createAdRpcHandler(options: AdRpcOptions): AdRpcHandler {
  const { config, sync, privateKey, log } = options;
  const now = options.now ?? (() => new Date());
  const max = options.maxConcurrent ?? 4;
  let active = 0;
  const loaded = new Map<AdDomainConfig, Promise<DomainRuntime>>();
  const runtime = (d: AdDomainConfig) => {
    let r = loaded.get(d);
    if (!r) {
      r = loadDomain(d);
      // a file fixed on disk is read again at the next request
      r.catch(() => loaded.delete(d));
      loaded.set(d, r);
    }
    return r;
  };

  const refuse = (code: RpcError['code'], message: string): never => {
    throw new RpcRefusal({ code, message });
  };

  /** The domains to look the user up in: the named one, the one the name's qualifier names, or all of them. */
  const domainsFor = (domain: string | undefined, username: string): AdDomainConfig[] => {
    const domains = config?.domains ?? [];
    if (domains.length === 0) return refuse('not_configured', 'this agent has no AD configuration');
    if (domain !== undefined) {
      const d = domains.find((x) => x.name.toLowerCase() === domain.toLowerCase());
      return d ? [d] : refuse('not_configured', `this agent does not serve the domain ${domain}`);
    }
    const backslash = username.indexOf('\\');
    if (backslash > 0) {
      const netbios = username.slice(0, backslash).toLowerCase();
      const d = domains.find((x) => (x.netbios ?? x.name.split('.')[0]!).toLowerCase() === netbios);
      return d
        ? [d]
        : refuse('not_configured', `this agent does not serve the domain ${netbios.toUpperCase()}`);
    }
    const at = username.lastIndexOf('@');
    if (at > 0) {
      const suffix = username.slice(at + 1).toLowerCase();
      const d = domains.find((x) => x.name.toLowerCase() === suffix);
      if (d) return [d];
    }
    return domains;
  };
  const bareName = (username: string) => {
    const backslash = username.indexOf('\\');
    return backslash > 0 ? username.slice(backslash + 1) : username;
  };

  const openSecret = (request: RpcRequest, field: 'password' | 'newPassword', sealed: Sealed): string => {
    if (!privateKey)
      return refuse(
        'not_configured',
        'this agent has no key to open sealed passwords (ad.rpcKeyFile or mqtt.key)',
      );
    try {
      return open(privateKey, sealed, rpcSealContext(request.id, request.method, field));
    } catch {
      return refuse('invalid_params', `params.${field}: not sealed for this agent and request`);
    }
  };

  /** The user's DN and the domain it is in, found as the service account. */
  const locate = async (domains: AdDomainConfig[], username: string) => {
    for (const d of domains) {
      const domain = await runtime(d);
      const conn = await connectDomain(domain);
      try {
        const dn = await findUserDn(conn.client, d, bareName(username));
        if (dn) return { domain, dn };
      } finally {
        await conn.close();
      }
    }
    return refuse('user_not_found', 'no such user in the configured domains');
  };

  const checkPassword = async (request: RpcRequest<'ad.checkPassword'>) => {
    const { domain, username, password: sealed } = request.params;
    const password = openSecret(request, 'password', sealed);
    // an empty password would be an unauthenticated bind, which LDAP servers accept
    if (password === '') return { valid: false };
    const found = await locate(domainsFor(domain, username), username);
    const conn = await connectDomain(found.domain, { bind: false });
    try {
      await conn.client.bind(found.dn, password);
      return { valid: true };
    } catch (err) {
      if (!(err instanceof InvalidCredentialsError)) throw err;
      const data = bindData(err);
      if (data === '533') return refuse('account_disabled', 'the account is disabled');
      if (data === '775') return refuse('account_locked', 'the account is locked in AD');
      return { valid: false };
    } finally {
      await conn.close();
    }
  };

  const setPassword = async (request: RpcRequest<'ad.setPassword'>) => {
    const { domain, username, newPassword: sealed } = request.params;
    const password = openSecret(request, 'newPassword', sealed);
    const found = await locate(domainsFor(domain, username), username);
    const conn = await connectDomain(found.domain, { requireTls: true });
    try {
      await conn.client.modify(
        found.dn,
        new Change({
          operation: 'replace',
          modification: new Attribute({
            type: 'unicodePwd',
            values: [Buffer.from(`"${password}"`, 'utf16le')],
          }),
        }),
      );
      return { changed: true as const };
    } catch (err) {
      const policy = passwordPolicyError(err);
      if (policy)
        throw new RpcRefusal({ code: 'password_policy', message: policy.message, reason: policy.reason });
      if (err instanceof InsufficientAccessError)
        return refuse('internal', 'the service account may not reset passwords in this domain');
      if (err instanceof NoSuchObjectError) return refuse('user_not_found', 'no such user');
      throw err;
    } finally {
      await conn.close();
    }
  };

  const answer = async (request: RpcRequest): Promise<RpcReply> => {
    try {
      switch (request.method) {
        case 'ad.sync': {
          if (!sync)
            return rpcFail(request.id, {
              code: 'not_configured',
              message: 'this agent has no ad.sync section',
            });
          const { started } = sync.start((request as RpcRequest<'ad.sync'>).params.mode);
          return rpcOk<'ad.sync'>(request.id, { started });
        }
        case 'ad.checkPassword':
        case 'ad.setPassword': {
          if (active >= max)
            return rpcFail(request.id, { code: 'busy', message: 'too many password requests at once' });
          active++;
          try {
            return request.method === 'ad.checkPassword'
              ? rpcOk<'ad.checkPassword'>(
                  request.id,
                  await checkPassword(request as RpcRequest<'ad.checkPassword'>),
                )
              : rpcOk<'ad.setPassword'>(
                  request.id,
                  await setPassword(request as RpcRequest<'ad.setPassword'>),
                );
          } finally {
            active--;
          }
        }
      }
    } catch (err) {
      if (err instanceof RpcRefusal) return rpcFail(request.id, err.error);
      if (err instanceof AdError)
        return rpcFail(request.id, { code: err.code, message: err.message.slice(0, 300) });
      // the error's name and LDAP code only: an LDAP error's text may quote what was sent
      log.error('rpc request failed', {
        rpcId: request.id,
        method: request.method,
        error: (err as Error).name,
        ldapCode: (err as { code?: unknown }).code,
      });
      return rpcFail(request.id, { code: 'internal', message: 'the agent could not carry out the request' });
    }
    return rpcFail(request.id, {
      code: 'unknown_method',
      message: `unknown method ${JSON.stringify(request.method)}`,
    });
  };

  const bindAsUser = async (username: string, password: string) => {
    // an empty password would be an unauthenticated bind, which LDAP servers accept
    if (password === '') throw refusedBind();
    let found: Awaited<ReturnType<typeof locate>>;
    try {
      found = await locate(domainsFor(undefined, username), username);
    } catch (err) {
      if (err instanceof RpcRefusal && err.error.code === 'user_not_found') throw refusedBind();
      throw err;
    }
    const conn = await connectDomain(found.domain, { bind: false });
    try {
      await conn.client.bind(found.dn, password);
    } finally {
      await conn.close();
    }
  };

  const handler = async (payload: Buffer): Promise<RpcReply | undefined> => {
    if (payload.length > MAX_RPC_BYTES) {
      log.warn('dropped an oversized rpc request', { bytes: payload.length });
      return undefined;
    }
    const raw = parseJson(payload);
    if (raw === undefined) {
      log.warn('dropped an rpc request that is not JSON', { bytes: payload.length });
      return undefined;
    }
    const parsed = parseRpcRequest(raw, now());
    if (!parsed.ok) {
      log.warn('rpc request refused', { rpcId: parsed.id, refusal: parsed.error.code });
      return parsed.id === undefined ? undefined : rpcFail(parsed.id, parsed.error);
    }
    const reply = await answer(parsed.request);
    log.info('rpc request answered', {
      rpcId: parsed.request.id,
      method: parsed.request.method,
      ok: reply.ok,
      ...(!reply.ok && { refusal: reply.error.code, reason: reply.error.reason }),
    });
    return reply;
  };
  return Object.assign(handler, { bindAsUser });
}
