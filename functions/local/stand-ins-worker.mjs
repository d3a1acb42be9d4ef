// Worker threads do not inherit tsx from the main thread on Node 20, so the worker registers it itself.
import { register } from 'tsx/esm/api';

register();
await import('./stand-ins-worker.ts');
