/** The plotwire package: import { ... } from 'plotwire'. */
export * from './shared/index.js';
