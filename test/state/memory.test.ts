import { MemoryStateStore } from '../../src/state/memory.js';
import { stateStoreContract } from './contract.js';

stateStoreContract('memory', async () => new MemoryStateStore(), null);
