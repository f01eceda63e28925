/** The protocol's single source of truth: limits, status codes, both wire formats. */
export * from './limits.js';
export * from './status.js';
export * from './errors.js';
export * from './device-lines.js';
export * from './stream-objects.js';
export { describe as describeSchema, fieldName } from './validate.js';
export { formatPlotlyDate } from './dates.js';
