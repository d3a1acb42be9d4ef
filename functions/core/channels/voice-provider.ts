/**
 * Voice calls through an HTTP provider of the same template kind as web SMS. Text-to-speech would read
 * "419283" as "four hundred nineteen thousand…", so codes are spelled out one character at a time, and
 * repeated once for the listener who reached for a pen.
 */
import type { ChannelKind } from './channel.ts';
import type { ParameterSpec } from './provider-params.ts';
import {
  WEB_PROVIDER_PARAMETERS,
  type WebProviderConfig,
  WebSmsProvider,
  webProviderConfig,
} from './web-provider.ts';

export interface SpokenTextOptions {
  /** Said before the code is read a second time; empty to read it once. */
  repeatPhrase?: string;
}

/**
 * A word of at least four characters that holds a digit is taken for a code (numeric `419283`,
 * alphanumeric `K7P2Q9`); shorter numbers ("5 minutes", an IP's parts) and plain words stay as they are.
 */
const CODE = /(?<![\p{L}\p{N}])(?=[\p{L}\p{N}]*\p{N})[\p{L}\p{N}]{4,}(?![\p{L}\p{N}])/gu;

/** `"K7p2"` → `"K 7 P 2"`: one character at a time, letters in capitals so they are read as letters. */
export function spellOut(code: string): string {
  return [...code.toUpperCase()].join(' ');
}

/**
 * Turns an SMS text into what a voice call says: "Your code is 419283." becomes
 * "Your code is 4 1 9 2 8 3. I repeat: 4 1 9 2 8 3."
 */
export function spokenText(text: string, options: SpokenTextOptions = {}): string {
  const codes: string[] = [];
  const spoken = text.replace(CODE, (code) => {
    const spelled = spellOut(code);
    codes.push(spelled);
    return spelled;
  });
  const repeat = options.repeatPhrase ?? 'I repeat:';
  if (codes.length === 0 || repeat === '') return spoken;
  const end = /[.!?]\s*$/.test(spoken) ? spoken.trimEnd() : `${spoken.trimEnd()}.`;
  return `${end} ${repeat} ${codes.join(', ')}.`;
}

export const VOICE_PROVIDER_PARAMETERS: readonly ParameterSpec[] = [
  ...WEB_PROVIDER_PARAMETERS,
  {
    name: 'repeatPhrase',
    type: 'string',
    required: false,
    default: 'I repeat:',
    description: 'Said before the code is read a second time, in the language of the call.',
  },
  {
    name: 'readTwice',
    type: 'boolean',
    required: false,
    default: true,
    description: 'Read the code a second time.',
  },
];

/** Checks a voice provider's parameters: the web provider's, plus how the code is read out. */
export function voiceProviderConfig(raw: Record<string, unknown>): WebProviderConfig {
  return webProviderConfig(raw, VOICE_PROVIDER_PARAMETERS);
}

/** A voice call provider: the web provider's request, with the text read out digit by digit. */
export class VoiceProvider extends WebSmsProvider {
  override readonly kind: ChannelKind = 'voice';

  static override parameters(): readonly ParameterSpec[] {
    return VOICE_PROVIDER_PARAMETERS;
  }

  protected override messageText(text: string): string {
    const { repeatPhrase, readTwice } = this.config.params;
    return spokenText(text, { repeatPhrase: readTwice === false ? '' : String(repeatPhrase ?? 'I repeat:') });
  }
}
