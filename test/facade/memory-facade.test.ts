import { describeFacadeConformance } from '../conformance/facade-suite.js';
import { MemoryStore } from '../../src/index.js';

describeFacadeConformance('memory', async () => MemoryStore.fromUri(new URL('memory://')));
