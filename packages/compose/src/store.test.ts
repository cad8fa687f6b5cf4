import { MemoryStore } from './ports.ts';
import { composeStoreContract } from './store.case.ts';

composeStoreContract('memory', () => new MemoryStore());
