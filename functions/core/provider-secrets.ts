/**
 * A provider's secret parameters through the tenant admin API: sealed when the provider is saved (with the
 * key dispatch opens them with), shown only as the mask, and kept through an edit that sends the mask back,
 * but only while the provider still sends where it did.
 */
import { SECRET_PARAM } from './audit-view.ts';
import { prepareProvider } from './channels/provider-kinds.ts';
import { ProviderParamsError, SECRET_MASK } from './channels/provider-params.ts';
import { isProviderKind, providerUnit } from './channels/registry.ts';
import { CredentialCipherError } from './credential-cipher.ts';
import { DomainError, InvalidRequestError } from './errors.ts';
import type { CredentialCipher } from './ports/credentials.ts';
import type { Provider } from './ports/tenant-config.ts';

/** The key service could not seal a credential (or none is configured): nothing was stored. */
export class CredentialUnavailableError extends DomainError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('credential_unavailable', message, options);
  }
}

const NO_CIPHER: CredentialCipher = {
  encrypt: () =>
    Promise.reject(
      new CredentialUnavailableError(
        'This deployment has no credential key, so provider secrets cannot be stored.',
      ),
    ),
  decrypt: () => Promise.reject(new CredentialCipherError('no credential key')),
};

/**
 * A provider as the API and the audit log show it: each secret parameter of its kind shows as `SECRET_MASK`,
 * never the sealed value, never the plain one. A parameter whose name says credential is masked too, so a
 * kind that forgets to mark one secret still never shows it.
 */
export function providerView(provider: Provider): Provider {
  const specs: readonly { name: string; secret?: boolean }[] = isProviderKind(provider.kind)
    ? providerUnit(provider.kind).parameters
    : [];
  const params = Object.fromEntries(
    Object.entries(provider.params ?? {}).map(([name, v]) => [
      name,
      specs.find((s) => s.name === name)?.secret === true || SECRET_PARAM.test(name) ? SECRET_MASK : v,
    ]),
  );
  return { ...provider, params };
}

/** Params that say where a provider's requests go. */
const ENDPOINT_PARAMS = ['url', 'host', 'port', 'transport', 'security'] as const;

/** What identifies the destination: for a URL its origin (a new path on the same server is fine). */
function endpointOf(name: string, value: unknown): unknown {
  if (name !== 'url' || typeof value !== 'string') return value;
  try {
    return new URL(value).origin;
  } catch {
    return value;
  }
}

export class ProviderSecrets {
  /**
   * `cipher` seals providers' secret parameters (KMS in AWS, the key file locally). Without it, a provider
   * with a secret parameter cannot be saved (503 credential_unavailable).
   */
  constructor(private readonly cipher: CredentialCipher = NO_CIPHER) {}

  /**
   * Checks a provider's params against its kind's specs and seals the secret ones for (tenant, provider), as
   * dispatch will open them. Bad params are 400 `invalid_request` naming the param; a key service that cannot
   * seal is 503 `credential_unavailable`; nothing is stored in either case.
   */
  async seal<P extends Pick<Provider, 'kind' | 'params'>>(
    tenantId: string,
    id: string,
    provider: P,
    previous?: Provider,
  ): Promise<P> {
    try {
      const kept = previous && (await this.keptSecrets(tenantId, id, provider, previous));
      const prepared = await prepareProvider(
        { tenantId, id, kind: provider.kind, params: provider.params },
        this.cipher,
        kept && { tenantId, id, kind: previous.kind, params: kept },
      );
      return { ...provider, params: prepared.params };
    } catch (error) {
      if (error instanceof ProviderParamsError)
        throw new InvalidRequestError(
          error.message,
          error.issues.map((i) => ({
            path: i.param === 'kind' ? 'kind' : `params.${i.param}`,
            message: i.message,
          })),
        );
      if (error instanceof CredentialCipherError)
        throw new CredentialUnavailableError('The provider secrets could not be sealed; try again later.', {
          cause: error,
        });
      throw error;
    }
  }

  /**
   * The previous params, once every secret sent back as the mask is seen to open. One that does not (sealed
   * under another key, or the key service is down) would keep a provider that cannot send, so the admin is
   * asked to enter it again instead (400 naming the param).
   */
  private async keptSecrets(
    tenantId: string,
    id: string,
    provider: Pick<Provider, 'kind' | 'params'>,
    previous: Provider,
  ): Promise<Provider['params']> {
    if (!isProviderKind(provider.kind) || previous.kind !== provider.kind) return previous.params;
    const kept = { ...previous.params };
    // A kept secret goes only where it went before: moving the endpoint needs the secret typed again, or an
    // admin key could send the stored token to a server of its choosing.
    const moved = ENDPOINT_PARAMS.find(
      (name) =>
        name in provider.params &&
        endpointOf(name, provider.params[name]) !== endpointOf(name, previous.params[name]),
    );
    for (const spec of providerUnit(provider.kind).parameters) {
      const stored = kept[spec.name];
      if (!spec.secret || provider.params[spec.name] !== SECRET_MASK || typeof stored !== 'string') continue;
      if (moved) {
        throw new ProviderParamsError([
          { param: spec.name, message: `${moved} changed, so the secret must be entered again` },
        ]);
      }
      try {
        await this.cipher.decrypt(stored, { tenantId, providerId: id });
      } catch (error) {
        if (!(error instanceof CredentialCipherError)) throw error;
        throw new ProviderParamsError([
          {
            param: spec.name,
            message:
              'the stored value cannot be opened (sealed under another key, or the key service is unavailable); enter it again',
          },
        ]);
      }
    }
    return kept;
  }
}
