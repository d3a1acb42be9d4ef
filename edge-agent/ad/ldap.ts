/**
 * Connections to a domain's controllers: LDAPS, or LDAP upgraded with StartTLS, trusting the configured CA; plain
 * LDAP only when the domain allows it. The DCs are tried in order until one answers.
 */
import { readFile } from 'node:fs/promises';
import type { ConnectionOptions } from 'node:tls';
import { Client, InvalidCredentialsError } from 'ldapts';
import type { AdDomainConfig } from './config.ts';
import { AdError, AdServiceBindError, AdUnavailableError } from './errors.ts';

/** A domain's settings with its files read: the CA and the service account's password. */
export interface DomainRuntime {
  config: AdDomainConfig;
  ca: string | undefined;
  bindPassword: string;
}

export async function loadDomain(config: AdDomainConfig): Promise<DomainRuntime> {
  const read = async (field: string, file: string) => {
    try {
      return await readFile(file, 'utf8');
    } catch (err) {
      throw new AdError(
        'not_configured',
        `${config.name}: ${field} ${file} cannot be read: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
        { cause: err },
      );
    }
  };
  const ca = config.caFile === undefined ? undefined : await read('caFile', config.caFile);
  const bindPassword =
    config.bindPassword ?? (await read('bindPasswordFile', config.bindPasswordFile!)).replace(/\r?\n$/, '');
  return { config, ca, bindPassword };
}

export interface DomainConnection {
  client: Client;
  /** The DC that answered. */
  dc: string;
  /** True when the connection is encrypted (LDAPS or StartTLS). */
  secure: boolean;
  close(): Promise<void>;
}

/** A fresh TLS options object each time: ldapts's startTLS() writes into the one it is given. */
function tlsOptions(domain: DomainRuntime): ConnectionOptions {
  return { minVersion: 'TLSv1.2', ...(domain.ca !== undefined && { ca: domain.ca }) };
}

/**
 * Opens a connection to the first DC of the domain that answers, encrypted unless plain LDAP is allowed, and
 * binds it as the service account unless `bind` is false. A refused service bind is not failed over: every DC
 * of the domain would say the same.
 */
export async function connectDomain(
  domain: DomainRuntime,
  options: { bind?: boolean; requireTls?: boolean } = {},
): Promise<DomainConnection> {
  const { config } = domain;
  const failures: string[] = [];
  for (const dc of config.dcs) {
    const ldaps = dc.startsWith('ldaps://');
    const client = new Client({
      url: dc,
      timeout: config.timeoutSeconds * 1000,
      connectTimeout: Math.min(config.timeoutSeconds, 10) * 1000,
      ...(ldaps && { tlsOptions: tlsOptions(domain) }),
    });
    const close = () => client.unbind().catch(() => {});
    try {
      let secure = ldaps;
      if (!ldaps && (config.startTls || !config.allowPlainLdap)) {
        // ldapts upgrades the socket without a host, and Node then checks the certificate against "localhost"
        await client.startTLS({ ...tlsOptions(domain), host: new URL(dc).hostname.replace(/^\[|\]$/g, '') });
        secure = true;
      }
      if (options.requireTls && !secure) {
        await close();
        throw new AdError(
          'not_configured',
          `${config.name}: this needs LDAPS or StartTLS, and ${dc} is plain LDAP`,
        );
      }
      if (options.bind !== false) {
        try {
          await client.bind(config.bindDn, domain.bindPassword);
        } catch (err) {
          await close();
          if (err instanceof InvalidCredentialsError)
            throw new AdServiceBindError(config.name, { cause: err });
          throw err;
        }
      }
      return { client, dc, secure, close };
    } catch (err) {
      if (err instanceof AdError) throw err;
      await close();
      failures.push(`${dc}: ${(err as Error).message}`);
    }
  }
  throw new AdUnavailableError(config.name, failures.join('; '));
}
