import { agentSuite } from './agent-suite.ts';
import { startTestBroker } from './helpers.ts';

agentSuite('aedes', () => startTestBroker());
