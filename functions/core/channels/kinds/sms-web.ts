/** SMS through a tenant's web SMS gateway, called over HTTP by the cloud. */
import { WEB_PROVIDER_PARAMETERS, WebSmsProvider, webProviderConfig } from '../web-provider.ts';
import { httpProviderDeps, type ProviderUnit } from './unit.ts';

export const smsWeb = {
  kind: 'sms_web',
  title: 'Web SMS gateway (HTTP)',
  label: 'sms',
  targets: ['primary', 'secondary'],
  reaches: 'phone',
  route: 'provider',
  parameters: WEB_PROVIDER_PARAMETERS,
  check: (params) => {
    webProviderConfig(params);
  },
  build: (params, provider, deps) =>
    new WebSmsProvider(provider, webProviderConfig(params), httpProviderDeps(deps)),
} as const satisfies ProviderUnit;
