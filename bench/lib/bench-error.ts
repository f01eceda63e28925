import { PlotwireError } from '../../shared/errors.js';

/** A benchmark run went wrong (its figures would be meaningless). */
export class BenchError extends PlotwireError {
  readonly code = 'PW_ERR_BENCH';
}
