/**
 * The AD connector as the agent runs it: the sync with its schedule, and the RPC handler. Loaded by the agent
 * only when it has an `ad` section or receives an RPC, so an agent without AD never loads ldapts.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { RpcReply } from '../../functions/contracts/rpc.ts';
import type { AgentConfig } from '../config.ts';
import type { Logger } from '../log.ts';
import { createAdRpcHandler } from './rpc.ts';
import { AdSync } from './sync.ts';

export interface AdConnector {
  sync: AdSync | undefined;
  handleRpc(payload: Buffer): Promise<RpcReply | undefined>;
  /** A bind as the user, for the RADIUS front's `ldap` first factor (see AdRpcHandler). */
  bindAsUser(username: string, password: string): Promise<void>;
  stop(): Promise<void>;
}

/** The key sealed passwords are opened with: `ad.rpcKeyFile`, else the enrolled key (`mqtt.key`). */
async function loadRpcKey(config: AgentConfig, log: Logger): Promise<KeyObject | undefined> {
  const file = config.ad?.rpcKeyFile ?? config.mqtt.key;
  if (!file) return undefined;
  try {
    const key = createPrivateKey(await readFile(file));
    if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return key;
    log.warn('the rpc key is not a P-256 key; sealed passwords cannot be opened', { file });
  } catch (err) {
    log.warn('the rpc key cannot be read; sealed passwords cannot be opened', {
      file,
      error: (err as NodeJS.ErrnoException).code ?? (err as Error).name,
    });
  }
  return undefined;
}

export async function startAdConnector(
  config: AgentConfig,
  log: Logger,
  options: { fetch?: typeof fetch } = {},
): Promise<AdConnector> {
  const adLog = log.child({ component: 'ad' });
  const sync = config.ad?.sync
    ? new AdSync({
        config: config.ad,
        stateDir: config.stateDir,
        log: adLog,
        ...(options.fetch && { fetch: options.fetch }),
      })
    : undefined;
  const handleRpc = createAdRpcHandler({
    config: config.ad,
    sync,
    privateKey: config.ad ? await loadRpcKey(config, adLog) : undefined,
    log: adLog,
  });
  sync?.schedule();
  return {
    sync,
    handleRpc,
    bindAsUser: handleRpc.bindAsUser,
    stop: async () => {
      await sync?.stop();
    },
  };
}
