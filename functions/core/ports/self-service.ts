/** What the self-service portal keeps: its sessions, enrolment links, and the user fields a user may change. */
import type { PhoneType, UserPin } from '../model.ts';

/**
 * `full`: signed in with a passcode through the user's rule chain. `enrolment`: came by an admin's e-mailed
 * link, which only lets the user fill in what is missing, never change what is there.
 */
export type PortalScope = 'full' | 'enrolment';

export interface PortalSession {
  tenantId: string;
  username: string;
  scope: PortalScope;
  createdAt: string;
  /** The session ends here whatever happens (absolute timeout). */
  expiresAt: string;
  /** And earlier when unused until here (idle timeout); each use moves it on. */
  idleUntil: string;
}

export interface EnrolmentLink {
  tenantId: string;
  username: string;
  createdAt: string;
  expiresAt: string;
  /** The admin key (prefix) that sent it. */
  sentBy: string;
}

export type NumberField = 'mobile' | 'secondaryMobile';

export interface SelfServiceStore {
  /** Stores a new session under the hash of its token. */
  putSession(hash: string, session: PortalSession): Promise<void>;
  getSession(hash: string): Promise<PortalSession | undefined>;
  /** Moves the idle end on, only while the session is still live at `nowIso`; false when it is not. */
  touchSession(hash: string, idleUntil: string, nowIso: string): Promise<boolean>;
  deleteSession(hash: string): Promise<void>;

  putLink(hash: string, link: EnrolmentLink): Promise<void>;
  /** Takes the link once: only while unused and unexpired at `nowIso`. Undefined when it was not there to take. */
  useLink(tenantId: string, hash: string, nowIso: string): Promise<EnrolmentLink | undefined>;

  /**
   * Sets a number only while it still is `from` (null: still missing), in one conditional write, and forgets
   * the sync's digest so the next AD sync writes the directory's value again. False when it was not `from`.
   */
  setNumber(
    tenantId: string,
    username: string,
    field: NumberField,
    from: string | null,
    to: { e164: string; type: PhoneType },
  ): Promise<boolean>;
  /**
   * Sets (or, with null, removes) the user's PIN only while the stored one still has the hash `from` (null:
   * none is set), in one conditional write. False when it changed meanwhile, or the user is gone.
   */
  setPin(tenantId: string, username: string, from: string | null, to: UserPin | null): Promise<boolean>;
  /** The user's flash-SMS choice, kept among their passcode overrides without touching the others. */
  setFlash(tenantId: string, username: string, flash: boolean): Promise<boolean>;
}
