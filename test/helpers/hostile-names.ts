export { HOSTILE_FIELDS } from '../../src/check/hostile-fields.js';
