export * from './messages.ts';
export * from './presence.ts';
export * from './rpc.ts';
export * from './sealed.ts';
export * from './topics.ts';
