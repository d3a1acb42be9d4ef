/** Builds the RADIUS front from the agent's `radius` configuration section. */
import { readFile } from 'node:fs/promises';
import type { Logger } from '../log.ts';
import { AuthApi } from './auth-api.ts';
import type { RadiusConfig } from './config.ts';
import {
  CloudPasswordCheck,
  type FirstFactor,
  FirstFactorOff,
  type LdapBind,
  LdapBindFirstFactor,
} from './first-factor.ts';
import { type RadiusServer, startRadiusServer } from './server.ts';

export class RadiusConfigError extends Error {
  override name = 'RadiusConfigError';
}

export interface RadiusFrontOptions {
  log: Logger;
  /** The AD connector's bind, for `firstFactor: ldap`. */
  ldapBind?: LdapBind | undefined;
}

export async function startRadiusFront(
  config: RadiusConfig,
  options: RadiusFrontOptions,
): Promise<RadiusServer> {
  const { log } = options;
  let authKey = config.api.authKey;
  if (config.api.authKeyFile !== undefined) {
    try {
      authKey = (await readFile(config.api.authKeyFile, 'utf8')).trim();
    } catch (error) {
      throw new RadiusConfigError(
        `radius.api.authKeyFile: cannot read ${config.api.authKeyFile}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
        { cause: error },
      );
    }
  }
  if (!authKey) throw new RadiusConfigError('radius.api.authKey: must not be empty');
  const onProblem = (problem: string, fields: Record<string, unknown>) =>
    log.warn(problem, { part: 'radius', ...fields });
  const timeoutMs = config.api.timeoutSeconds * 1000;
  let firstFactor: FirstFactor;
  if (config.firstFactor === 'off') firstFactor = new FirstFactorOff();
  else if (config.firstFactor === 'ldap') {
    if (!options.ldapBind)
      throw new RadiusConfigError('radius.firstFactor: ldap needs the AD connector configured on this agent');
    firstFactor = new LdapBindFirstFactor(options.ldapBind);
  } else firstFactor = new CloudPasswordCheck({ apiUrl: config.api.url, authKey, timeoutMs, onProblem });
  return startRadiusServer({
    host: config.host,
    port: config.port,
    accountingPort: config.accountingPort,
    clients: config.clients,
    firstFactor,
    api: new AuthApi({ apiUrl: config.api.url, authKey, timeoutMs, onProblem }),
    log,
  });
}
