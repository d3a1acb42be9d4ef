/** An in-memory `TotpStore` with the same conditional semantics as the DynamoDB one, for unit tests. */
import type { TotpEnrolment, TotpStore } from '../../../functions/core/channels/totp.ts';

export class MemoryTotpStore implements TotpStore {
  private readonly items = new Map<string, TotpEnrolment>();
  private key = (tenantId: string, username: string) => `${tenantId}\u0000${username.toLowerCase()}`;

  async get(tenantId: string, username: string) {
    const item = this.items.get(this.key(tenantId, username));
    return item && { ...item };
  }

  async put(enrolment: TotpEnrolment) {
    this.items.set(this.key(enrolment.tenantId, enrolment.username), { ...enrolment });
  }

  async acceptStep(tenantId: string, username: string, enrolmentId: string, step: number) {
    const item = this.items.get(this.key(tenantId, username));
    if (!item || item.enrolmentId !== enrolmentId || item.lastStep >= step) return false;
    item.lastStep = step;
    item.confirmed = true;
    return true;
  }

  async remove(tenantId: string, username: string) {
    this.items.delete(this.key(tenantId, username));
  }
}
