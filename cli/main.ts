#!/usr/bin/env node
/** The plotwire command line: `plotwire COMMAND [options]`. */
import { packageVersion as version } from '../shared/package-root.js';
import { UsageError, type Command } from './command.js';
import { tokenCommand, userCommand } from './commands/accounts.js';
import { bridgeCommand } from './commands/bridge.js';
import { demoCommand } from './commands/demo.js';
import { portsCommand } from './commands/ports.js';
import { serverCommand } from './commands/server.js';
import { serviceCommand } from './commands/service.js';
import { simulateCommand } from './commands/simulate.js';
import { validateCommand } from './commands/validate.js';

const commands: readonly Command[] = [demoCommand, serverCommand, bridgeCommand, portsCommand, userCommand, tokenCommand, serviceCommand, simulateCommand, validateCommand];


function help(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return `plotwire ${version}: live plots from sensors, over serial, through a Plotly-compatible stream server.

usage: plotwire COMMAND [options]

commands:
${commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Run plotwire COMMAND --help for a command's options.`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(help());
    return 0;
  }
  if (name === '--version' || name === '-v') {
    console.log(version);
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    console.error(`plotwire: unknown command "${name}"\n\n${help()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(command.usage);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`plotwire ${name}: ${(err as Error).message}\n\n${command.usage}`);
      return 2;
    }
    throw err;
  }
}

process.exitCode = await main(process.argv.slice(2));
