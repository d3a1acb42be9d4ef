/** What audit entries and API replies show of stored objects: no secrets, no full phone numbers. */
import { maskPhone } from './phone.ts';

/** Provider params whose names say they hold a credential. */
export const SECRET_PARAM = /secret|token|pass(word|wd)?|api_?key|^key$|credential|auth|signature/i;

export const maskOrNull = (phone: string | null | undefined) => (phone ? maskPhone(phone) : null);
