/**
 * plotwire simulate: runs the Uno firmware in avr8js in real time, fed from a heart recording,
 * and exposes its serial port on a pseudo-terminal (for the bridge) or on standard output.
 */
import { RecordingError } from '../../firmware/sim/recordings.js';
import { PREBUILT_UNO_HEX, SimulationError, startSimulation } from '../../firmware/sim/simulation.js';
import { DEFAULT_SAMPLE_RATE_HZ } from '../../shared/limits.js';
import { UsageError, defineCommand } from '../command.js';
import { optionSpec } from '../options.js';

const PROGRESS_MS = 10_000;

const usage = `usage: plotwire simulate --signal FILE [--hex FILE] [--pty | --stdout] [options]

Runs the compiled Arduino Uno firmware in a simulated ATmega328P (avr8js) in real time. Its ADC
reads the recording, resampled to the firmware's rate; its serial output goes to a
pseudo-terminal that the bridge opens like a real board's port, or to standard output.

  --signal FILE   an MIT-BIH record (<rec>.adc.csv or .adc.csv.gz, header "adc", 360 Hz) or a
                  PPG recording (PPG.csv, header "time,R,G,B"); it loops at its end
  --hex FILE      the firmware image (default: the committed firmware/prebuilt/uno.hex;
                  npm run firmware builds build/firmware/uno/firmware.hex)
  --pty           serve the serial output on a pseudo-terminal and print its path (default)
  --stdout        write the serial output to standard output instead
  --rate HZ       the firmware's sample rate (default ${DEFAULT_SAMPLE_RATE_HZ})
  --speed X       simulated seconds per second (default 1: real time)
  --duration S    stop after S simulated seconds (default: run until interrupted)
  --json          with --pty: print {"pty": PATH, "rate": HZ} and progress as JSON lines

Progress (simulated time, how many times real time, bytes sent) goes to standard error every 10
simulated seconds. Ctrl-C stops.`;

export const simulateCommand = defineCommand(
  { name: 'simulate', summary: 'run the Uno firmware in a simulator, fed from a recording, on a pseudo-terminal', usage, options: optionSpec(['signal', 'hex', 'rate', 'speed', 'duration'], ['pty', 'stdout', 'json']) },
  async (values) => {
    if (!values.signal) throw new UsageError('--signal FILE is required');
    if (values.pty && values.stdout) throw new UsageError('give --pty or --stdout, not both');
    const number = (name: string, text: string | undefined, fallback: number): number => {
      if (text === undefined) return fallback;
      const v = Number(text);
      if (!Number.isFinite(v) || v <= 0) throw new UsageError(`--${name} must be a number above 0 (got "${text}")`);
      return v;
    };
    const rateHz = number('rate', values.rate, DEFAULT_SAMPLE_RATE_HZ);
    const speed = number('speed', values.speed, 1);
    const duration = values.duration === undefined ? undefined : number('duration', values.duration, 0);
    const toStdout = values.stdout === true;
    const info = (msg: string, data: Record<string, unknown>): void => {
      if (values.json && !toStdout) console.log(JSON.stringify(data));
      else process.stderr.write(`plotwire simulate: ${msg}\n`);
    };

    let sim;
    try {
      sim = await startSimulation({
        hex: values.hex ?? PREBUILT_UNO_HEX,
        signal: values.signal,
        rateHz,
        speed,
        output: toStdout ? (bytes) => process.stdout.write(bytes) : 'pty',
      });
    } catch (err) {
      if (err instanceof SimulationError || err instanceof RecordingError) {
        console.error(`plotwire simulate: ${err.message}`);
        return 1;
      }
      throw err;
    }
    if (!toStdout) {
      if (values.json) console.log(JSON.stringify({ pty: sim.ptyPath, rate: rateHz }));
      else console.log(sim.ptyPath);
    }
    info(`running ${values.hex ?? PREBUILT_UNO_HEX} at ${rateHz} Hz from ${values.signal}${toStdout ? '' : ` on ${sim.ptyPath}`}`, { event: 'started' });

    const stopSignal = new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
      // The reader of standard output went away (| head): stop quietly.
      process.stdout.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'EPIPE') resolve();
      });
    });
    // Runs to --duration (or on and on), with progress every 10 simulated seconds.
    let done = false;
    const started = performance.now();
    const run = (async () => {
      const endMs = duration === undefined ? Infinity : duration * 1000;
      for (let mark = PROGRESS_MS; ; mark += PROGRESS_MS) {
        await sim.until(Math.min(mark, endMs));
        if (done || mark >= endMs) return;
        const s = sim.stats();
        const realTime = s.simulatedMs / (performance.now() - started);
        const lost = s.bytesDropped ? `, ${s.bytesDropped} lost (nobody reading)` : '';
        info(`${(s.simulatedMs / 1000).toFixed(0)} s simulated (${realTime.toFixed(2)}x real time), ${s.bytesOut} bytes sent${lost}`, { event: 'progress', ...s, realTime });
      }
    })();
    let failure: SimulationError | undefined;
    try {
      await Promise.race([stopSignal, run]);
    } catch (err) {
      if (!(err instanceof SimulationError)) throw err;
      failure = err;
    }
    done = true;
    await sim.stop();
    if (failure) {
      console.error(`plotwire simulate: ${failure.message}`);
      return 1;
    }
    const s = sim.stats();
    info(`stopped after ${(s.simulatedMs / 1000).toFixed(1)} s simulated, ${s.bytesOut} bytes sent`, { event: 'stopped', ...s });
    return 0;
  },
);
