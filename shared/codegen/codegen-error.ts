import { PlotwireError } from '../errors.js';

/** shared/ cannot be turned into the firmware header or the docs' tables (a schema or a marker is missing). */
export class CodegenError extends PlotwireError {
  readonly code = 'PW_ERR_CODEGEN';
}
