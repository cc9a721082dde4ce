/** Registers every library type descriptor (import for side effects). */
import './core.js';
import './collections.js';
import './json.js';
import './context.js';
import './misc.js';
import { setInstanceTest } from './collections.js';
import { instanceTest } from '../compiler.js';

setInstanceTest(instanceTest);
