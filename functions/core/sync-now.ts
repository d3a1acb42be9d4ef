/**
 * The console's "sync now": an `ad.sync` RPC to one of the tenant's agents, answered with the agent's reply.
 * The run itself reports through the sync API, so it shows in the run history like any scheduled one.
 */
import type { SyncMode } from '../contracts/sync.ts';
import { DirectoryUnavailableError, NotFoundError } from './errors.ts';
import type { Logger } from './ports/log.ts';
import type { RpcAgentDirectory } from './ports/rpc.ts';
import type { RpcService } from './rpc.ts';

/** Starting a sync is quick for the agent (it answers before the run, not after). */
export const SYNC_NOW_TIMEOUT_MS = 10_000;

export class SyncNowService {
  constructor(
    private readonly deps: {
      /** Absent where the function cannot reach agents: every request is then 503. */
      rpc?: Pick<RpcService, 'call'>;
      agents: Pick<RpcAgentDirectory, 'list'>;
      log: Logger;
      timeoutMs?: number;
    },
  ) {}

  async start(
    tenantId: string,
    agentId: string,
    mode: SyncMode,
  ): Promise<{ agentId: string; started: boolean }> {
    const agent = (await this.deps.agents.list(tenantId)).find((a) => a.agentId === agentId);
    if (!agent) throw new NotFoundError(`Agent "${agentId}"`);
    if (agent.state !== 'online')
      throw new DirectoryUnavailableError(`Agent "${agentId}" is not connected; sync now needs it online.`);
    if (!this.deps.rpc) throw new DirectoryUnavailableError('This deployment cannot reach edge agents.');
    const outcome = await this.deps.rpc.call(
      tenantId,
      agent,
      'ad.sync',
      () => ({ mode }),
      this.deps.timeoutMs ?? SYNC_NOW_TIMEOUT_MS,
    );
    if (outcome.kind === 'ok') {
      this.deps.log.info('sync now', { tenantId, agentId, mode, started: outcome.result.started });
      return { agentId, started: outcome.result.started };
    }
    if (outcome.kind === 'timeout')
      throw new DirectoryUnavailableError(`Agent "${agentId}" did not answer in time; try again.`);
    throw new DirectoryUnavailableError(
      `Agent "${agentId}" could not start a sync (${outcome.error.code}): ${outcome.error.message}`,
    );
  }
}
