/** A voice call that reads the code out, through a tenant's voice gateway called over HTTP. */
import { VOICE_PROVIDER_PARAMETERS, VoiceProvider, voiceProviderConfig } from '../voice-provider.ts';
import { httpProviderDeps, type ProviderUnit } from './unit.ts';

export const voice = {
  kind: 'voice',
  title: 'Voice call gateway (HTTP)',
  label: 'voice',
  targets: ['primary', 'secondary'],
  reaches: 'phone',
  route: 'provider',
  parameters: VOICE_PROVIDER_PARAMETERS,
  check: (params) => {
    voiceProviderConfig(params);
  },
  build: (params, provider, deps) =>
    new VoiceProvider(provider, voiceProviderConfig(params), httpProviderDeps(deps)),
} as const satisfies ProviderUnit;
