export * from './messages.ts';
export * from './presence.ts';
export * from './topics.ts';
