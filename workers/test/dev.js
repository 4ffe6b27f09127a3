// The wrangler dev wiring: a second entry that wraps the unchanged Worker
// with withRagd (ragd's address comes from the RAGD_URL and RAGD_API_KEY vars).
import worker from './worker.js';
import { withRagd } from '../ragd-bindings.js';

export default withRagd(worker, { vectorize: { VECTORIZE: 'films' } });
