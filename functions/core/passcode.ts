import { randomInt } from 'node:crypto';

export interface PasscodeSettings {
  length: number;
  validitySeconds: number;
  maxAttempts: number;
}

export const DEFAULT_PASSCODE: PasscodeSettings = { length: 6, validitySeconds: 300, maxAttempts: 3 };

/** A numeric passcode from the CSPRNG; `randomInt` rejects out-of-range draws, so there is no modulo bias. */
export function generateNumericPasscode(length: number): string {
  if (!Number.isInteger(length) || length < 4 || length > 12)
    throw new RangeError('passcode length must be 4–12');
  let code = '';
  for (let i = 0; i < length; i++) code += String(randomInt(10));
  return code;
}
