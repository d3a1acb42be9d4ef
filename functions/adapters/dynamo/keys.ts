/** Item keys of the single table. Every tenant-owned item's key starts with its tenant id. */
export const keyItem = (hash: string) => ({ pk: `KEY#${hash}`, sk: 'KEY' });
export const tenantItem = (tenantId: string) => ({ pk: `TENANT#${tenantId}`, sk: 'TENANT' });
export const userItem = (tenantId: string, username: string) => ({
  pk: `TENANT#${tenantId}`,
  sk: `USER#${username.toLowerCase()}`,
});
export const agentItem = (tenantId: string, agentId: string) => ({
  pk: `TENANT#${tenantId}`,
  sk: `AGENT#${agentId}`,
});
export const AGENT_PREFIX = 'AGENT#';
/** Challenges get a partition each, so one busy tenant never makes a hot partition. */
export const challengeItem = (tenantId: string, challengeId: string) => ({
  pk: `CH#${tenantId}#${challengeId}`,
  sk: 'CH',
});
