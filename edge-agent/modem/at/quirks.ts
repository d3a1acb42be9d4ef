/**
 * Modem quirks: where modems that all claim 3GPP TS 27.005 / 27.007 still differ, kept here as data so the
 * driver (at-driver.ts) stays one code path for every modem. A quirk is a form of a setting that some modem
 * needs; the driver tries the forms of a setting in the order listed, takes the first one the modem answers
 * with OK, and moves on when the modem refuses (ERROR, +CME ERROR, +CMS ERROR). A timeout or a lost link is
 * never a refusal: it stops init, since the next form would meet the same dead modem.
 *
 * To add one (say, another AT+CNMI form some modem needs): append it to its list below. Order is preference:
 * a modem that takes an earlier form never sees the new one, so modems that work today keep working. Then add
 * a case to test/edge-agent/modem/at/quirks.test.ts with that modem's recorded replies (the driver's `trace`
 * event shows them), asserting which forms init typed and what it concluded.
 */

/**
 * AT+CNMI forms that route SMS-STATUS-REPORTs to the host as unsolicited +CDS, tried in turn (the fourth
 * field, ds=1, is what matters; the others differ because modems accept different mode/mt combinations).
 * When the modem refuses all of them the modem still sends, without delivery reports.
 */
export const CNMI_CANDIDATES: readonly string[] = [
  'AT+CNMI=2,1,0,1,0',
  'AT+CNMI=1,1,0,1,0',
  'AT+CNMI=2,0,0,1,0',
];

/**
 * AT+CMGF per message format. In `auto` mode the driver asks for PDU mode first and falls back to text mode
 * when the modem refuses it, as some old modems do; `pdu` and `text` ask for their one format only.
 */
export const SMS_FORMAT_COMMANDS = { pdu: 'AT+CMGF=0', text: 'AT+CMGF=1' } as const;

/** Plain `AT`s sent before init gives up: the first may meet a half-typed line or a modem just out of reset. */
export const SYNC_ATTEMPTS = 3;
