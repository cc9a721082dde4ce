/** Registers every library type descriptor (import for side effects). */
import './core.js';
import './collections.js';
import './json.js';
import './context.js';
import './misc.js';
import './delegates.js';
import './xml.js';
