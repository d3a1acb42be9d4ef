/**
 * The seams inside the edge agent. The MQTT link and the job runner depend on these interfaces; the modem
 * pool (edge-agent/modem/) implements them.
 */
import type { FailureClass, ModemStatusEvent, SmsJob } from '../functions/contracts/index.ts';

export interface SendOutcomeSent {
  ok: true;
  modem: string;
  messageRefs: number[];
}

export interface SendOutcomeFailed {
  ok: false;
  reason: FailureClass;
  detail: string;
  modem?: string;
}

export type SendOutcome = SendOutcomeSent | SendOutcomeFailed;

export interface DeliveryReport {
  modem: string;
  messageRef: number;
  /** TP-Status; 0 is "received by the SME". */
  status: number;
  at: Date;
  /** The number the report is about, when the modem's report names it (PDU mode). */
  recipient?: string | undefined;
  /**
   * True for a final report of no send this process made (its message reference is unknown here): after a
   * restart, the report of a message the previous process handed to the modem.
   */
  unmatched?: boolean | undefined;
}

/** What the caller hears about a send while it runs. */
export interface SendHooks {
  /**
   * Called immediately before the first `AT+CMGS` of the job goes to `modem` (again for another modem, should
   * the pool move it there); that command waits until this resolves, so a journal can make it durable first.
   * A rejection stops the send before the modem gets any of it (outcome `temporary`).
   */
  onHandedToModem?(modem: string): Promise<void>;
}

/** What the agent needs from its modems. */
export interface SmsSender {
  /** Sends on a healthy modem of `job.modemGroup`, retrying on another modem of the group before giving up. */
  send(
    /** `report: false` sends without asking for a delivery report; absent or true asks for one. */
    job: Pick<SmsJob, 'to' | 'text' | 'flash' | 'modemGroup'> & { report?: boolean | undefined },
    signal?: AbortSignal,
    hooks?: SendHooks,
  ): Promise<SendOutcome>;
  /** Modem groups this agent serves. */
  groups(): string[];
  /** Current status of every modem, shaped as the `modem.status` event minus v/at/type. */
  statuses(): Array<Omit<ModemStatusEvent, 'v' | 'at' | 'type'>>;
  onDeliveryReport(listener: (report: DeliveryReport) => void): void;
  /** Stops taking new sends and waits for the ones in flight. */
  close(): Promise<void>;
}
